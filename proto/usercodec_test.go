package proto

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// upserts are the shapes the codec must write and read as msgpack does.
func upserts() map[string]*ContactUpsert {
	long := strings.Repeat("x", 70_000)
	return map[string]*ContactUpsert{
		"empty":      {},
		"nil attrs":  {V: 1, RunID: "run-1", Key: "u1", Fingerprint: "0123456789abcdef0123456789abcdef"},
		"no attrs":   {V: 1, Key: "u1", Attributes: map[string]any{}},
		"one string": {V: 1, RunID: "run-1", Key: "u1", BrazeID: "b1", ExtID: "u1", Email: "a@b.c", Attributes: map[string]any{"FIRSTNAME": "Ann"}, SourceVersion: 42, Fingerprint: "fp"},
		"float":      {V: 1, Key: "u1", Attributes: map[string]any{"POINTS": 12.5}, SourceVersion: 1_700_000_000_000},
		"true":       {V: 1, Key: "u1", Attributes: map[string]any{"OPTIN": true}},
		"false":      {V: 1, Key: "u1", Attributes: map[string]any{"OPTIN": false}},
		"nil value":  {V: 1, Key: "u1", Attributes: map[string]any{"GONE": nil}},
		"many": {V: 1, Key: "u1", Attributes: map[string]any{"A": "a", "B": 1.0, "C": true, "D": nil, "E": "", "F": math.Inf(-1),
			"G": "g", "H": "h", "I": "i", "J": "j", "K": "k", "L": "l", "M": "m", "N": "n", "O": "o", "P": "p", "Q": "q"}},
		"versions":  {V: -1, Key: "u1", SourceVersion: -200},
		"wide ints": {V: math.MaxInt32 + 1, Key: "u1", SourceVersion: math.MinInt64},
		"int16":     {V: 300, Key: "u1", SourceVersion: -30_000},
		"lengths":   {V: 1, Key: strings.Repeat("k", 31), ExtID: strings.Repeat("e", 32), Email: strings.Repeat("m", 255), BrazeID: strings.Repeat("b", 256), Fingerprint: long},
		"left off":  {V: 1, Key: "u1", LeftOff: []LeftOff{{Reason: "invalid_email", Detail: "not an email"}, {Reason: "r2"}}},
	}
}

// An upsert is written as msgpack writes it (byte for byte when it has at
// most one attribute, since msgpack writes a map in no fixed order), and
// msgpack's bytes and the codec's are read as msgpack reads them.
func TestUpsertCodecWritesAndReadsAsMsgpack(t *testing.T) {
	for name, u := range upserts() {
		t.Run(name, func(t *testing.T) {
			want, err := msgpack.Marshal(u)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := u.appendMsgpack(nil)
			if !ok {
				t.Fatal("not written by the codec")
			}
			if len(u.Attributes) <= 1 && !bytes.Equal(got, want) {
				t.Fatalf("written as\n%.200x\nmsgpack writes\n%.200x", got, want)
			}
			for from, b := range map[string][]byte{"msgpack": want, "codec": got} {
				var viaMsgpack, viaCodec ContactUpsert
				if err := msgpack.Unmarshal(b, &viaMsgpack); err != nil {
					t.Fatalf("%s's bytes: msgpack: %v", from, err)
				}
				if err := decodeUpsert(b, &viaCodec); err != nil {
					t.Fatalf("%s's bytes: not read by the codec: %v", from, err)
				}
				if !reflect.DeepEqual(viaCodec, viaMsgpack) || !reflect.DeepEqual(viaCodec, *u) {
					t.Fatalf("%s's bytes read as\n%.300v\nmsgpack reads\n%.300v\nwritten\n%.300v", from, viaCodec, viaMsgpack, *u)
				}
			}
		})
	}
}

// What the codec does not write or read goes through msgpack, the same as
// before: an attribute of another type, a field of a later version, bytes
// cut short.
func TestUpsertCodecLeavesOtherShapesToMsgpack(t *testing.T) {
	odd := &ContactUpsert{V: 1, Key: "u1", Attributes: map[string]any{"N": int64(7), "L": []any{"a"}}}
	if _, ok := odd.appendMsgpack(nil); ok {
		t.Fatal("an int64 and a list attribute written by the codec")
	}
	b, err := Encode(odd)
	if err != nil {
		t.Fatal(err)
	}
	var want ContactUpsert
	if err := msgpack.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	var got ContactUpsert
	if err := Decode(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read as %#v, msgpack reads %#v", got, want)
	}

	// A field this version does not know: msgpack reads the rest.
	later, err := msgpack.Marshal(map[string]any{"v": 1, "key": "u1", "new": "x", "attrs": map[string]any{"A": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeUpsert(later, &got); err == nil {
		t.Fatal("an unknown field read by the codec")
	}
	got = ContactUpsert{Email: "left@over"}
	if err := Decode(later, &got); err != nil || got.Key != "u1" || got.Attributes["A"] != "a" || got.Email != "" {
		t.Fatalf("read as %#v, %v", got, err)
	}

	// Cut short: an error, never a panic or half a record.
	full, _ := upserts()["one string"].appendMsgpack(nil)
	for n := range len(full) {
		got = ContactUpsert{}
		if err := Decode(full[:n], &got); err == nil {
			t.Fatalf("%d of %d bytes read without an error: %#v", n, len(full), got)
		}
	}
}

func FuzzUpsertDecode(f *testing.F) {
	for _, u := range upserts() {
		if b, ok := u.appendMsgpack(nil); ok && len(b) < 1000 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got ContactUpsert
		if decodeUpsert(b, &got) != nil {
			return
		}
		// Read by the codec: msgpack reads the same.
		var want ContactUpsert
		if err := msgpack.Unmarshal(b, &want); err != nil {
			t.Fatalf("read by the codec as %#v; msgpack: %v", got, err)
		}
		// (printed, since a NaN is not equal to itself)
		if !reflect.DeepEqual(got, want) && fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
			t.Fatalf("read as\n%#v\nmsgpack reads\n%#v", got, want)
		}
	})
}

func BenchmarkUpsertCodec(b *testing.B) {
	u := &ContactUpsert{V: 1, RunID: "7f3a9c2e-run", Key: "user-000123", BrazeID: "5f0c1d2e3f", ExtID: "user-000123", Email: "ann.lee@example.com",
		Attributes: map[string]any{"FIRSTNAME": "Ann", "LASTNAME": "Lee", "SMS": "+33612345678", "COUNTRY": "FR", "LANGUAGE": "fr",
			"LOYALTY_POINTS": 1234.0, "PUSH_OPTIN": true, "DOB": "1990-04-01", "CITY": "Lyon", "PLAN": "gold"},
		SourceVersion: 1_700_000_000_000, Fingerprint: "0123456789abcdef0123456789abcdef"}
	data, _ := msgpack.Marshal(u)
	b.Run("encode/msgpack", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := msgpack.Marshal(u); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode/codec", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Encode(u); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/msgpack", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var out ContactUpsert
			if err := msgpack.Unmarshal(data, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/codec", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var out ContactUpsert
			if err := Decode(data, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A raw user is written as msgpack writes it, and read as msgpack reads
// it; a field of a later version is read by msgpack.
func TestRawUserCodecWritesAndReadsAsMsgpack(t *testing.T) {
	for name, u := range map[string]*RawUser{
		"empty":   {},
		"line":    {V: 1, RunID: "run-1", BrazeID: "b1", ExportedAt: 1_700_000_000_000, Line: []byte(`{"external_id":"u1"}`)},
		"long":    {V: 1, RunID: "run-1", Line: bytes.Repeat([]byte("x"), 70_000)},
		"no line": {V: 1, RunID: "run-1", Line: []byte{}},
	} {
		t.Run(name, func(t *testing.T) {
			want, err := msgpack.Marshal(u)
			if err != nil {
				t.Fatal(err)
			}
			got := u.appendMsgpack(nil)
			if !bytes.Equal(got, want) {
				t.Fatalf("written as\n%.200x\nmsgpack writes\n%.200x", got, want)
			}
			var viaCodec, viaMsgpack RawUser
			if err := decodeRawUser(got, &viaCodec); err != nil {
				t.Fatal(err)
			}
			if err := msgpack.Unmarshal(got, &viaMsgpack); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(viaCodec, viaMsgpack) {
				t.Fatalf("read as %.200v, msgpack reads %.200v", viaCodec, viaMsgpack)
			}
		})
	}
	later, err := msgpack.Marshal(map[string]any{"v": 1, "run": "r", "line": []byte("l"), "new": 2})
	if err != nil {
		t.Fatal(err)
	}
	var got RawUser
	if err := Decode(later, &got); err != nil || got.RunID != "r" || string(got.Line) != "l" {
		t.Fatalf("a later version's raw user read as %+v, %v", got, err)
	}
}

func FuzzRawUserDecode(f *testing.F) {
	f.Add((&RawUser{V: 1, RunID: "r", BrazeID: "b", ExportedAt: 5, Line: []byte("{}")}).appendMsgpack(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		var got RawUser
		if decodeRawUser(b, &got) != nil {
			return
		}
		var want RawUser
		if err := msgpack.Unmarshal(b, &want); err != nil {
			t.Fatalf("read by the codec as %+v; msgpack: %v", got, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("read as\n%+v\nmsgpack reads\n%+v", got, want)
		}
	})
}
