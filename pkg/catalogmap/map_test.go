package catalogmap

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tajo-sync/tajo/proto"
)

func ptr(f float64) *float64 { return &f }

func TestMap(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Metadata = []string{"brand", "stock", "tags"}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		item   string
		want   proto.Product
		reason string // non-empty: a RecordError with this reason
	}{
		{"every field", `{"id":"p1","name":"Shoe","price":19.9,"url":"https://s/p1","image_url":"https://i/p1.jpg","sku":"SKU1",
			"category":"Shoes","brand":"Acme","stock":12,"tags":["a","b"],"other":"ignored"}`,
			proto.Product{ID: "p1", Name: "Shoe", Price: ptr(19.9), URL: "https://s/p1", ImageURL: "https://i/p1.jpg", SKU: "SKU1",
				Categories: []string{"Shoes"}, Meta: map[string]string{"brand": "Acme", "stock": "12", "tags": `["a","b"]`}}, ""},
		{"price as a string, sku as a number, several categories", `{"id":"p2","name":"Hat","price":" 5.5 ","sku":123,
			"category":["Hats"," ","Hats","Sale"]}`,
			proto.Product{ID: "p2", Name: "Hat", Price: ptr(5.5), SKU: "123", Categories: []string{"Hats", "Sale"}}, ""},
		{"nulls and absent fields", `{"id":"p3","name":"Bag","price":null,"brand":null}`, proto.Product{ID: "p3", Name: "Bag"}, ""},
		{"no name", `{"id":"p4","price":1}`, proto.Product{}, "no_name"},
		{"blank name", `{"id":"p4","name":"  "}`, proto.Product{}, "no_name"},
		{"name an object", `{"id":"p4","name":{"en":"x"}}`, proto.Product{}, "invalid_name"},
		{"price not a number", `{"id":"p5","name":"X","price":"cheap"}`, proto.Product{}, "invalid_price"},
		{"price a boolean", `{"id":"p5","name":"X","price":true}`, proto.Product{}, "invalid_price"},
		{"categories of numbers", `{"id":"p6","name":"X","category":[1,2]}`, proto.Product{}, "invalid_categories"},
		{"url an array", `{"id":"p7","name":"X","url":["a"]}`, proto.Product{}, "invalid_field"},
		{"not an object", `["x"]`, proto.Product{}, "malformed_item"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "p"
			if i := strings.Index(tc.item, `"id":"`); i >= 0 {
				id = tc.item[i+6 : i+6+strings.IndexByte(tc.item[i+6:], '"')]
			}
			got, err := m.Map(id, []byte(tc.item))
			if tc.reason != "" {
				var re *RecordError
				if !errors.As(err, &re) || re.Reason != tc.reason {
					t.Fatalf("err %v, want reason %s", err, tc.reason)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	a := proto.Product{ID: "p", Name: "N", Meta: map[string]string{"a": "1", "b": "2"}}
	b := proto.Product{ID: "p", Name: "N", Meta: map[string]string{"b": "2", "a": "1"}}
	if Fingerprint(a) != Fingerprint(b) {
		t.Error("equal products, different fingerprints")
	}
	b.Meta["b"] = "3"
	if Fingerprint(a) == Fingerprint(b) {
		t.Error("different products, equal fingerprints")
	}
	if Fingerprint(proto.Product{ID: "p", Deleted: true}) != DeletedFingerprint {
		t.Error("a deleted product's fingerprint")
	}
}

func TestValidate(t *testing.T) {
	many := make([]string, 11)
	for i := range many {
		many[i] = string(rune('a' + i))
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		keys []string
	}{
		{"default", DefaultConfig(), nil},
		{"no name", Config{}, []string{"name"}},
		{"a field twice", Config{Name: "title", Price: "title"}, []string{"price"}},
		{"id", Config{Name: "id"}, []string{"name"}},
		{"spaces", Config{Name: " name"}, []string{"name"}},
		{"11 metadata", Config{Name: "n", Metadata: many}, []string{"metadata"}},
		{"metadata twice and empty", Config{Name: "n", Metadata: []string{"a", "a", ""}}, []string{"metadata[1]", "metadata[2]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			var keys []string
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					keys = append(keys, e.(FieldError).Key)
				}
			}
			if !reflect.DeepEqual(keys, tc.keys) {
				t.Errorf("keys at fault %v, want %v (%v)", keys, tc.keys, err)
			}
		})
	}
}

func FuzzMap(f *testing.F) {
	f.Add(`{"id":"p","name":"x","price":"1","category":["a"],"brand":{"x":1}}`)
	f.Add(`{"name":null}`)
	cfg := DefaultConfig()
	cfg.Metadata = []string{"brand"}
	m, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, item string) {
		p, err := m.Map("p", []byte(item))
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) || re.Reason == "" {
				t.Fatalf("an error without a reason: %v", err)
			}
			return
		}
		if strings.TrimSpace(p.Name) == "" || len(p.Meta) > MaxMetadata {
			t.Fatalf("mapped to %+v", p)
		}
	})
}
