package extractor

import "testing"

func TestBrazeID(t *testing.T) {
	for _, tc := range []struct {
		name, line, id, reason string
	}{
		{"plain", `{"braze_id":"abc","email":"a@b.c"}`, "abc", ""},
		{"spaces", `{ "external_id" : "x", "braze_id" : "abc" }`, "abc", ""},
		{"value looks like the key", `{"note": "braze_id", "braze_id":"real"}`, "real", ""},
		{"in an array", `{"tags":["braze_id","x"],"braze_id":"real"}`, "real", ""},
		{"nested first", `{"user_aliases":[{"braze_id":"nested"}],"braze_id":"top"}`, "top", ""},
		{"only nested", `{"custom_attributes":{"braze_id":"nested"}}`, "", "no_braze_id"},
		{"escaped quote before", `{"first_name":"a\"b","braze_id":"k"}`, "k", ""},
		{"escaped id", `{"braze_id":"a\u0062c"}`, "abc", ""},
		{"missing", `{"email":"a@b.c"}`, "", "no_braze_id"},
		{"empty", `{"braze_id":""}`, "", "no_braze_id"},
		{"number", `{"braze_id":12}`, "", "no_braze_id"},
		{"array", `[{"braze_id":"x"}]`, "", "malformed_json"},
		{"truncated", `{"braze_id":"x","email":"a@`, "", "malformed_json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, reason, _ := brazeID([]byte(tc.line))
			if id != tc.id || reason != tc.reason {
				t.Errorf("brazeID(%s) = %q, %q; want %q, %q", tc.line, id, reason, tc.id, tc.reason)
			}
		})
	}
}

func FuzzBrazeID(f *testing.F) {
	f.Add([]byte(`{"braze_id":"abc"}`))
	f.Add([]byte(`{"a":{"braze_id":"x"},"braze_id":"y"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		if len(line) == 0 {
			return
		}
		id, reason, _ := brazeID(line)
		if (id == "") == (reason == "") {
			t.Fatalf("brazeID(%q) = %q, %q: want exactly one of id and reason", line, id, reason)
		}
	})
}
