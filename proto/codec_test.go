package proto

import (
	"strconv"
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

// An applied record with a fingerprint and run tag of the usual shape is
// kept in binary, a third smaller than its text; it reads back the same,
// and so does the text an earlier version wrote.
func TestAppliedBinary(t *testing.T) {
	fp := "0af7651916cd43dd8448eb211c80319c"
	full := Applied{Version: 1765000000123, Fingerprint: fp, Email: "jane.doe@example.com", SMS: "+33612345678",
		Attrs: "3fa0b2c1.7ff", Run: RunTag("20261207T115155Z-10ccd2"), Outcome: 0x21}
	for _, a := range []Applied{
		full,
		{Version: 1765000000123, Fingerprint: fp},
		{Version: -5, Fingerprint: fp, Email: "x@y.z"},
		{Fingerprint: fp, Run: RunTag("r")},
		{Version: 3, Fingerprint: fp, Attrs: "s.0", Outcome: 0xff},
	} {
		s := a.String()
		if s[0] != appliedBinary {
			t.Errorf("%+v kept as text %q", a, s)
		}
		if got := DecodeApplied(s); got != a {
			t.Errorf("binary round trip: %+v, want %+v", got, a)
		}
		text := strconv.FormatInt(a.Version, 10) + ":" + a.Fingerprint
		if a.hasIDs() {
			text += "\x1f" + a.Email + "\x1f" + a.SMS + "\x1f" + a.Attrs + "\x1f" + a.Run + "\x1f" + strconv.Itoa(int(a.Outcome))
		}
		if got := DecodeApplied(text); got != a {
			t.Errorf("the text of an earlier version: %+v, want %+v", got, a)
		}
	}
	text := strconv.FormatInt(full.Version, 10) + ":" + fp + "\x1f" + full.Email + "\x1f" + full.SMS + "\x1f" + full.Attrs + "\x1f" + full.Run + "\x1f33"
	if bin := full.String(); len(bin) > len(text)*3/4 {
		t.Errorf("binary %d bytes, text %d: want a quarter smaller at least", len(bin), len(text))
	}
	// Not of the usual shape: text, as before.
	for _, a := range []Applied{{Version: 1, Fingerprint: "F" + fp[1:]}, {Version: 1, Fingerprint: fp[:30]}, {Version: 1, Fingerprint: fp, Run: "run"}} {
		if s := a.String(); s[0] == appliedBinary || DecodeApplied(s) != a {
			t.Errorf("%+v: %q", a, s)
		}
	}
	// A binary record cut short or with more after it is not read as one.
	bin := full.String()
	for _, v := range []string{bin[:1], bin[:2], bin[:10], bin[:len(bin)-1], bin + "x"} {
		if _, ok := decodeBinary(v); ok {
			t.Errorf("%q read as a binary record", v)
		}
	}
}

// FuzzApplied: every record reads back as it was written.
func FuzzApplied(f *testing.F) {
	f.Add(int64(1765000000123), "0af7651916cd43dd8448eb211c80319c", "a@b.c", "+331", "m.1", "01234567", byte(3))
	f.Add(int64(0), "f", "", "", "", "", byte(0))
	f.Fuzz(func(t *testing.T, v int64, fp, email, sms, attrs, run string, out byte) {
		if strings.ContainsAny(fp+email+sms+attrs+run, "\x1f:") || strings.HasPrefix(fp, "\x01") || fp == "" {
			return // the text form's separators: never in what the loader writes
		}
		a := Applied{Version: v, Fingerprint: fp, Email: email, SMS: sms, Attrs: attrs, Run: run, Outcome: out}
		if !a.hasIDs() {
			a.Outcome = 0 // written only with the identifiers
		}
		if got := DecodeApplied(a.String()); got != a {
			t.Fatalf("%+v read back as %+v", a, got)
		}
	})
}
