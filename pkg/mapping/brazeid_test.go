package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBrazeID(t *testing.T) {
	for _, tc := range []struct {
		name, line, id, reason string
	}{
		{"plain", `{"braze_id":"abc","email":"a@b.c"}`, "abc", ""},
		{"spaces", ` { "external_id" : "x", "braze_id" : " abc " } `, "abc", ""},
		{"value looks like the key", `{"note": "braze_id", "braze_id":"real"}`, "real", ""},
		{"nested first", `{"user_aliases":[{"braze_id":"nested"}],"braze_id":"top"}`, "top", ""},
		{"only nested", `{"custom_attributes":{"braze_id":"nested"}}`, "", ReasonNoBrazeID},
		{"escaped key and value", `{"braze\u005fid":"a\u0062c"}`, "abc", ""},
		{"twice: the last wins", `{"braze_id":"first","braze_id":"second"}`, "second", ""},
		{"a number, as Map reads it", `{"braze_id":12}`, "12", ""},
		{"missing", `{"email":"a@b.c"}`, "", ReasonNoBrazeID},
		{"empty", `{"braze_id":""}`, "", ReasonNoBrazeID},
		{"null", `{"braze_id":null}`, "", ReasonNoBrazeID},
		{"an object", `{"braze_id":{"id":"x"}}`, "", ReasonNoBrazeID},
		{"invalid UTF-8", "{\"braze_id\":\"a\xffb\"}", "", ReasonNoBrazeID},
		{"an array line", `[{"braze_id":"x"}]`, "", ReasonMalformedJSON},
		{"truncated", `{"braze_id":"x","email":"a@`, "", ReasonMalformedJSON},
		{"trailing data", `{"braze_id":"x"} {}`, "", ReasonMalformedJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := BrazeID([]byte(tc.line))
			reason := ""
			if re, ok := errors.AsType[*RecordError](err); ok {
				reason = re.Reason
			} else if err != nil {
				t.Fatalf("BrazeID(%s): %v is not a *RecordError", tc.line, err)
			}
			if id != tc.id || reason != tc.reason {
				t.Errorf("BrazeID(%s) = %q, %q; want %q, %q", tc.line, id, reason, tc.id, tc.reason)
			}
		})
	}
}

// BrazeID and Map read the same line the same way: a line BrazeID refuses,
// Map refuses for the same reason; a line it accepts, Map maps to the
// same braze_id (or refuses for another reason, such as no identifier).
func TestBrazeIDAgreesWithMap(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range append(scanSeeds, benchLine, `{"braze_id":7,"external_id":"x"}`, `{"braze_id":"b"}`,
		`{"braze_id":"b","external_id":"e"}`, `{"braze_id":"","external_id":"e"}`) {
		id, err := BrazeID([]byte(line))
		c, merr := m.Map([]byte(line))
		var want, got *RecordError
		errors.As(err, &got)
		errors.As(merr, &want)
		switch {
		case err != nil && (want == nil || want.Reason != got.Reason):
			t.Errorf("%s: BrazeID refuses it (%v), Map says %v", line, err, merr)
		case err == nil && merr == nil && c.BrazeID != id:
			t.Errorf("%s: BrazeID %q, Map %q", line, id, c.BrazeID)
		case err == nil && want != nil && (want.Reason == ReasonMalformedJSON || want.Reason == ReasonNoBrazeID):
			t.Errorf("%s: BrazeID reads %q, Map refuses it: %v", line, id, merr)
		}
	}
}

func FuzzBrazeID(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(benchLine))
	f.Add([]byte(`{"braze_id":" 1e3 ","a":{"braze_id":"x"},"braze_id":"y"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		id, err := BrazeID(line)
		want, ok := referenceBrazeID(line)
		if ok != (err == nil) || id != want {
			t.Fatalf("BrazeID(%q) = %q, %v; encoding/json reads %q, %v", line, id, err, want, ok)
		}
	})
}

// referenceBrazeID reads a line's braze_id with encoding/json, by the rule
// BrazeID documents.
func referenceBrazeID(line []byte) (string, bool) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(line, &obj) != nil || obj == nil {
		return "", false
	}
	d := json.NewDecoder(bytes.NewReader(obj["braze_id"]))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return "", false
	}
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case json.Number:
		s = string(v)
	default:
		return "", false
	}
	if strings.ContainsRune(s, utf8.RuneError) {
		return "", false
	}
	s = strings.TrimSpace(s)
	return s, s != ""
}

// Identity keys a line as Map keys its contact: the external_id, else the
// braze_id, whatever the order or escaping of the fields.
func TestIdentityKeysAsMap(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`{"braze_id":"b1","external_id":"u1","email":"a@example.com"}`,
		`{"external_id":" u2 ","braze_id":"b2","email":"b@example.com"}`,
		`{"braze_id":"b3","email":"c@example.com"}`,
		`{"braze_id":"b4","external_id":null,"email":"d@example.com"}`,
		`{"braze_id":"b5","\u0065xternal_id":"u5","email":"e@example.com"}`,
		`{"braze_id":"b6","external_id":12345,"email":"f@example.com"}`,
	} {
		id, key, err := Identity([]byte(line))
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		c, err := m.Map([]byte(line))
		if err != nil {
			t.Fatalf("%s: Map: %v", line, err)
		}
		if id != c.BrazeID || key != c.Key {
			t.Errorf("%s: Identity %q %q, Map %q %q", line, id, key, c.BrazeID, c.Key)
		}
	}
	if _, _, err := Identity([]byte(`{"external_id":"u7"}`)); err == nil {
		t.Error("a line without braze_id was given a key")
	}
}
