package proto

import (
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	in := &ContactUpsert{V: SchemaVersion, RunID: "r1", Key: "u1", Email: "a@b.c",
		Attributes:    map[string]any{"FIRSTNAME": "Ann", "LOYALTY_POINTS": 12.5, "PUSH_OPTIN": true, "DOB": "2000-01-02"},
		SourceVersion: 42}
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	var out ContactUpsert
	if err := Decode(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Key != "u1" || out.Attributes["LOYALTY_POINTS"] != 12.5 || out.Attributes["PUSH_OPTIN"] != true || out.SourceVersion != 42 {
		t.Fatalf("round trip lost data: %+v", out)
	}
}

func TestDecodeRefusesUnknownVersion(t *testing.T) {
	b, _ := Encode(&RawUser{V: SchemaVersion + 1})
	err := Decode(b, &RawUser{})
	if err == nil || !strings.Contains(err.Error(), "schema version") {
		t.Fatalf("want schema version error, got %v", err)
	}
	b, _ = Encode(&RawUser{})
	if err := Decode(b, &RawUser{}); err == nil {
		t.Fatal("want error for missing schema version")
	}
}

func TestMsgIDDeterministic(t *testing.T) {
	a := MsgID("braze", "k", []byte("x"))
	if a != MsgID("braze", "k", []byte("x")) {
		t.Fatal("not deterministic")
	}
	if a == MsgID("braze", "k", []byte("y")) || a == MsgID("braze", "k2", []byte("x")) {
		t.Fatal("collision on different input")
	}
}

func TestToken(t *testing.T) {
	for in, want := range map[string]string{"": "unknown", "Malformed JSON": "malformed_json", "a.b>*": "a_b__", "http_429": "http_429"} {
		if got := Token(in); got != want {
			t.Errorf("Token(%q) = %q, want %q", in, got, want)
		}
	}
	if got := DLQSubject("loader", "Invalid Phone"); got != "dlq.loader.invalid_phone" {
		t.Fatal(got)
	}
}

func TestAppliedValue(t *testing.T) {
	v, fp := ParseApplied(AppliedValue(1732790000123, "abc"))
	if v != 1732790000123 || fp != "abc" {
		t.Fatalf("round trip: %d %q", v, fp)
	}
	a := Applied{Version: 7, Fingerprint: "f", Email: "a:b@example.com", SMS: "+33612345678"}
	if got := DecodeApplied(a.String()); got != a {
		t.Fatalf("identifiers round trip: %+v", got)
	}
	for _, a := range []Applied{{Version: 1, Fingerprint: "f", Attrs: "ab12.5"}, {Version: 1, Fingerprint: "f", SMS: "+1", Attrs: "x.1"},
		{Version: 1, Fingerprint: "f", Run: RunTag("r1"), Outcome: 0x28}} {
		if got := DecodeApplied(a.String()); got != a {
			t.Fatalf("attributes round trip: %+v, want %+v", got, a)
		}
	}
	if v, fp := ParseApplied(a.String()); v != 7 || fp != "f" {
		t.Fatalf("with identifiers: %d %q", v, fp)
	}
	if v, fp := ParseApplied("bare"); v != 0 || fp != "bare" {
		t.Fatalf("bare fingerprint: %d %q", v, fp)
	}
}
