package brevo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestImportBatchBody(t *testing.T) {
	b := NewImportBatch(0)
	contacts := []ImportContact{
		{Email: "ann@example.com", ExtID: "u1", Attributes: map[string]any{"FIRSTNAME": "Ann \"A\"\n", "SCORE": 1.5, "VIP": true, "GONE": nil}},
		{ExtID: "u2", Attributes: map[string]any{"SMS": "+33612345678", "EXT_ID": "u2", "COUNT": 3}},
		{Attributes: map[string]any{"EXT_ID": "u3"}},
		{Email: "bad\xffutf8@example.com"},
	}
	for i, c := range contacts {
		if ok, err := b.Add(c); !ok || err != nil {
			t.Fatalf("Add(%d) = %v, %v", i, ok, err)
		}
	}
	body, err := b.Body(ImportOptions{ListIDs: []int64{7, 9}, UpdateExistingContacts: true})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	want := map[string]any{
		"jsonBody": []any{
			map[string]any{"email": "ann@example.com", "attributes": map[string]any{"EXT_ID": "u1", "FIRSTNAME": "Ann \"A\"\n", "SCORE": 1.5, "VIP": true, "GONE": nil}},
			map[string]any{"attributes": map[string]any{"EXT_ID": "u2", "SMS": "+33612345678", "COUNT": 3.0}},
			map[string]any{"attributes": map[string]any{"EXT_ID": "u3"}},
			map[string]any{"email": "bad\ufffdutf8@example.com", "attributes": map[string]any{}},
		},
		"listIds":                 []any{7.0, 9.0},
		"updateExistingContacts":  true,
		"emptyContactsAttributes": false,
		"disableNotification":     false,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("body decodes to\n%v\nwant\n%v", got, want)
	}
	// Attributes are in name order, so equal contacts encode to equal bytes.
	if !strings.Contains(string(body), `"attributes":{"EXT_ID":"u1","FIRSTNAME":"Ann \"A\"\n","GONE":null,"SCORE":1.5,"VIP":true}`) {
		t.Fatalf("attributes not in name order: %s", body)
	}
	// Body can be asked again and Add continues after it.
	if ok, err := b.Add(ImportContact{Email: "z@example.com"}); !ok || err != nil {
		t.Fatalf("Add after Body = %v, %v", ok, err)
	}
	again, err := b.Body(ImportOptions{ListIDs: []int64{7}})
	if err != nil || !json.Valid(again) || b.Len() != 5 {
		t.Fatalf("second Body: %v, valid %v, len %d", err, json.Valid(again), b.Len())
	}
}

func TestImportBatchRefusesBadContacts(t *testing.T) {
	tests := []struct {
		name    string
		contact ImportContact
		want    error
	}{
		{"no identifier", ImportContact{Attributes: map[string]any{"FIRSTNAME": "x"}}, ErrNoIdentifier},
		{"EXT_ID disagrees", ImportContact{ExtID: "a", Attributes: map[string]any{"EXT_ID": "b"}}, nil},
		{"NaN", ImportContact{Email: "a@b.c", Attributes: map[string]any{"X": math.NaN()}}, nil},
		{"unencodable", ImportContact{Email: "a@b.c", Attributes: map[string]any{"X": make(chan int)}}, nil},
		{"too large", ImportContact{Email: "a@b.c", Attributes: map[string]any{"X": strings.Repeat("x", 4000)}}, ErrContactTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewImportBatch(4096)
			ok, err := b.Add(tt.contact)
			if ok || err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Add = %v, %v; want an error (%v)", ok, err, tt.want)
			}
			if b.Len() != 0 || b.Size() != len(importHead) {
				t.Fatalf("a refused contact changed the batch: len %d size %d", b.Len(), b.Size())
			}
		})
	}
	if _, err := NewImportBatch(0).Body(ImportOptions{ListIDs: []int64{1}}); err == nil {
		t.Fatal("empty batch gave a body")
	}
	b := NewImportBatch(0)
	_, _ = b.Add(ImportContact{Email: "a@b.c"})
	if _, err := b.Body(ImportOptions{}); err == nil {
		t.Fatal("a body without list ids was built")
	}
}

func TestImportBatchStaysUnderLimit(t *testing.T) {
	for _, maxBytes := range []int{2048, 10_000, 100_000} {
		t.Run(fmt.Sprint(maxBytes), func(t *testing.T) {
			b := NewImportBatch(maxBytes)
			added := 0
			for i := 0; ; i++ {
				ok, err := b.Add(ImportContact{Email: fmt.Sprintf("user%d@example.com", i), ExtID: fmt.Sprint(i), Attributes: map[string]any{"FIRSTNAME": "Ann"}})
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				added++
			}
			body, err := b.Body(ImportOptions{ListIDs: []int64{1, 2, 3}})
			if err != nil {
				t.Fatal(err)
			}
			var decoded struct{ JSONBody []json.RawMessage }
			if err := json.Unmarshal(body, &decoded); err != nil || len(decoded.JSONBody) != added || b.Len() != added {
				t.Fatalf("decoded %d of %d contacts: %v", len(decoded.JSONBody), added, err)
			}
			if len(body) > maxBytes {
				t.Fatalf("body %d bytes > limit %d", len(body), maxBytes)
			}
			// The limit was really reached: another contact would not fit.
			if len(body)+60 < maxBytes-importTailReserve {
				t.Fatalf("batch stopped early at %d bytes of %d", len(body), maxBytes)
			}
			b.Reset()
			if b.Len() != 0 || b.Size() != len(importHead) {
				t.Fatalf("Reset left len %d size %d", b.Len(), b.Size())
			}
		})
	}
}

// TestImportBatchGrowsByDoubling fills an 8 MB batch: its body never has
// more capacity than the limit, Body adds the closing options without a
// copy, and filling it allocates about twice the body (the test allows
// three times), where appending
// left about 30 MB of outgrown copies.
func TestImportBatchGrowsByDoubling(t *testing.T) {
	const maxBytes = 8_000_000
	row := []byte(`{"email":"someone.with.a.long.name@example.com","attributes":{"EXT_ID":"user_0001234","FIRSTNAME":"Ann","LASTNAME":"Lee"}}`)
	b := NewImportBatch(maxBytes)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rows := 0
	for {
		ok, err := b.AddRow(row)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		rows++
		if cap(b.buf) > maxBytes {
			t.Fatalf("after %d rows the body's capacity is %d, over the %d limit", rows, cap(b.buf), maxBytes)
		}
	}
	body, err := b.Body(ImportOptions{ListIDs: []int64{7}})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if &body[0] != &b.buf[0] {
		t.Fatal("Body copied the body to add the closing options")
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 3*maxBytes {
		t.Fatalf("filling an import of %d bytes allocated %d bytes", len(body), grown)
	}
}

// FuzzAppendString checks the hand-written encoder against encoding/json:
// both must decode to the same string, and the output must be valid JSON.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "\x00\x1f\t\n\r", "é€😀", "\xff\xfe", "\u2028\u2029", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendString(nil, s)
		var got, want string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("appendString(%q) = %s: not JSON: %v", s, out, err)
		}
		ref, _ := json.Marshal(s)
		_ = json.Unmarshal(ref, &want)
		if got != want {
			t.Fatalf("appendString(%q) decodes to %q, encoding/json to %q", s, got, want)
		}
	})
}

func TestAppendValueMatchesEncodingJSON(t *testing.T) {
	values := []any{nil, "s", true, false, 0.0, -0.0, 1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.123, -3.25e-9,
		float32(0.1), float32(1e22), 42, int64(-7), int32(9), uint64(math.MaxUint64), []string{"a"}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for _, v := range values {
		got, err := appendValue(nil, v)
		if err != nil {
			t.Fatalf("appendValue(%v): %v", v, err)
		}
		want, _ := json.Marshal(v)
		if !bytes.Equal(got, want) {
			t.Errorf("appendValue(%#v) = %s, encoding/json %s", v, got, want)
		}
	}
}

func TestImportContacts(t *testing.T) {
	var body map[string]any
	c, rec := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/contacts/import" || r.Header.Get("Content-Type") != "application/json" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"processId":78}`))
	})
	id, err := c.ImportContacts(context.Background(), ImportRequest{
		Contacts:               []ImportContact{{Email: "a@example.com", ExtID: "u1"}},
		ListIDs:                []int64{5},
		UpdateExistingContacts: true,
		DisableNotification:    true,
	})
	if err != nil || id != 78 {
		t.Fatalf("ImportContacts = %d, %v", id, err)
	}
	want := map[string]any{
		"jsonBody":                []any{map[string]any{"email": "a@example.com", "attributes": map[string]any{"EXT_ID": "u1"}}},
		"listIds":                 []any{5.0},
		"updateExistingContacts":  true,
		"emptyContactsAttributes": false,
		"disableNotification":     true,
	}
	if !reflect.DeepEqual(body, want) {
		t.Fatalf("body = %v\nwant %v", body, want)
	}
	if calls := rec.All(); len(calls) != 1 || calls[0].Status != http.StatusAccepted {
		t.Fatalf("calls = %+v", calls)
	}

	huge := make([]ImportContact, 0, 100)
	for i := range 100 {
		huge = append(huge, ImportContact{Email: fmt.Sprintf("u%d@example.com", i), Attributes: map[string]any{"BIO": strings.Repeat("x", 100_000)}})
	}
	if _, err := c.ImportContacts(context.Background(), ImportRequest{Contacts: huge, ListIDs: []int64{5}}); err == nil || len(rec.All()) != 1 {
		t.Fatalf("a 10 MB import was sent (err %v)", err)
	}
}

// BenchmarkImportBatchAdd measures the per-contact cost of building import
// bodies: the loader's hot path on a full sync.
func BenchmarkImportBatchAdd(b *testing.B) {
	contacts := make([]ImportContact, 1000)
	for i := range contacts {
		contacts[i] = ImportContact{
			Email: fmt.Sprintf("user%d@example.com", i),
			ExtID: fmt.Sprintf("ext-%d", i),
			Attributes: map[string]any{
				"FIRSTNAME": "Ann", "LASTNAME": "Example", "SMS": "+33612345678", "COUNTRY": "FR",
				"DOB": "1990-01-02", "REVENUE": 12.5, "VIP": true, "BRAZE_ID": "5f3c0a9e1b2d",
			},
		}
	}
	batch := NewImportBatch(DefaultImportMaxBytes)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ok, err := batch.Add(contacts[i%len(contacts)])
		if err != nil {
			b.Fatal(err)
		}
		if !ok {
			if _, err := batch.Body(ImportOptions{ListIDs: []int64{1}}); err != nil {
				b.Fatal(err)
			}
			batch.Reset()
		}
	}
}

// A row reads back as the contact it was encoded from, EXT_ID as ExtID
// (numbers as float64), and the body carries notifyUrl only when set.
func TestImportRowRoundTripAndNotifyURL(t *testing.T) {
	in := ImportContact{Email: "ann@example.com", ExtID: "u1", Attributes: map[string]any{"FIRSTNAME": "Ann", "SCORE": 2.5, "VIP": false, "GONE": ""}}
	row, err := AppendImportRow(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseImportRow(row)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("row %s reads back as %+v, want %+v", row, out, in)
	}
	b := NewImportBatch(0)
	if ok, err := b.AddRow(row); !ok || err != nil {
		t.Fatalf("AddRow = %v, %v", ok, err)
	}
	body, err := b.Body(ImportOptions{ListIDs: []int64{2}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), "notifyUrl") {
		t.Fatalf("notifyUrl sent unset: %s", body)
	}
	body, err = b.Body(ImportOptions{ListIDs: []int64{2}, NotifyURL: "https://gw.example.com/v1/brevo/imports/done/t0k?import=x"})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		NotifyURL string `json:"notifyUrl"`
		JSONBody  []any  `json:"jsonBody"`
	}
	if err := json.Unmarshal(body, &got); err != nil || got.NotifyURL != "https://gw.example.com/v1/brevo/imports/done/t0k?import=x" || len(got.JSONBody) != 1 {
		t.Fatalf("body %s: %+v, %v", body, got, err)
	}
}
