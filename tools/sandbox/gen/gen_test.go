package gen

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestLinesAreValidAndQuirky(t *testing.T) {
	const n = 20000
	g := New(1, n, WithMalformedLines())
	var (
		seen                                                 = make(map[string]bool, n)
		malformed, noExt, noEmail, noPhone, railsTZ, quirkTS int
		sessionsText, sessionsInt                            int
	)
	for i := range n {
		line := g.Line(i, 0)
		if bytes.IndexByte(line, '\n') >= 0 {
			t.Fatalf("line %d contains a newline", i)
		}
		if g.Malformed(i, 0) {
			malformed++
			var m map[string]any
			if json.Unmarshal(line, &m) == nil && m["braze_id"] != nil {
				t.Fatalf("line %d should be malformed: %s", i, line)
			}
			continue
		}
		var u struct {
			BrazeID    string  `json:"braze_id"`
			ExternalID *string `json:"external_id"`
			Email      *string
			Phone      *string
			TimeZone   string `json:"time_zone"`
			CreatedAt  string `json:"created_at"`
			Apps       []struct{ Sessions any }
			CA         map[string]any `json:"custom_attributes"`
		}
		if err := json.Unmarshal(line, &u); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, line)
		}
		if len(u.BrazeID) != 24 || seen[u.BrazeID] {
			t.Fatalf("line %d: braze_id %q not 24 hex or not unique", i, u.BrazeID)
		}
		seen[u.BrazeID] = true
		if u.ExternalID == nil {
			noExt++
		}
		if u.Email == nil {
			noEmail++
		}
		if u.Phone == nil {
			noPhone++
		}
		if strings.Contains(u.TimeZone, " ") || !strings.Contains(u.TimeZone, "/") {
			railsTZ++
		}
		if strings.HasSuffix(u.CreatedAt, " UTC") {
			quirkTS++
		}
		for _, a := range u.Apps {
			switch a.Sessions.(type) {
			case string:
				sessionsText++
			case float64:
				sessionsInt++
			}
		}
		if _, ok := u.CA["loyalty_points"]; !ok {
			t.Fatalf("line %d lacks loyalty_points: %s", i, line)
		}
	}
	between := func(name string, got int, lo, hi float64) {
		t.Helper()
		if f := float64(got) / n; f < lo || f > hi {
			t.Errorf("%s: %d of %d (%.4f) not within [%v, %v]", name, got, n, f, lo, hi)
		}
	}
	if malformed != g.MalformedCount() || malformed < n/malformedEvery {
		t.Errorf("malformed = %d, MalformedCount = %d, want >= %d", malformed, g.MalformedCount(), n/malformedEvery)
	}
	between("no external_id", noExt, 0.02, 0.04)
	between("no email", noEmail, 0.02, 0.04)
	between("no phone", noPhone, 0.27, 0.33)
	between("rails time zone", railsTZ, 0.2, 0.6)
	between("braze created_at", quirkTS, 0.4, 0.6)
	if sessionsText == 0 || sessionsInt == 0 {
		t.Errorf("apps.sessions: %d strings, %d ints; want both", sessionsText, sessionsInt)
	}
}

func TestDeterministic(t *testing.T) {
	a, b, other := New(7, 5000), New(7, 5000), New(8, 5000)
	same := 0
	for i := range 5000 {
		if !bytes.Equal(a.Line(i, 2), b.Line(i, 2)) {
			t.Fatalf("line %d differs between two generators with the same seed", i)
		}
		if bytes.Equal(a.Line(i, 0), other.Line(i, 0)) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d lines identical across seeds", same)
	}
}

func TestVersionChangesMappedFields(t *testing.T) {
	g := New(3, 3000)
	for i := range g.N() {
		if g.Malformed(i, 0) {
			continue
		}
		prev := g.User(i, 0)
		for v := 1; v <= 3; v++ {
			cur := g.User(i, v)
			pl := prev["custom_attributes"].(map[string]any)["loyalty_points"].(float64)
			cl := cur["custom_attributes"].(map[string]any)["loyalty_points"].(float64)
			if cl <= pl || cur["first_name"] == prev["first_name"] ||
				cur["total_revenue"].(float64) <= prev["total_revenue"].(float64) {
				t.Fatalf("user %d v%d: first_name %v->%v loyalty %v->%v", i, v, prev["first_name"], cur["first_name"], pl, cl)
			}
			if cur["braze_id"] != prev["braze_id"] || cur["email"] != prev["email"] || cur["external_id"] != prev["external_id"] {
				t.Fatalf("user %d v%d: identifiers changed", i, v)
			}
			prev = cur
		}
	}
}

func TestLookups(t *testing.T) {
	g := New(5, 30000)
	for i := 0; i < g.N(); i += 7 {
		if got, ok := g.IndexOfBrazeID(g.BrazeID(i)); !ok || got != i {
			t.Fatalf("IndexOfBrazeID(BrazeID(%d)) = %d, %v", i, got, ok)
		}
		if ext, ok := g.ExternalID(i); ok {
			if got, ok := g.IndexOfExternalID(ext); !ok || got != i {
				t.Fatalf("IndexOfExternalID(%q) = %d, %v", ext, got, ok)
			}
		}
		if email, ok := g.Email(i); ok && strings.Count(email, "@") == 1 && !strings.HasSuffix(strings.TrimSpace(email), "@") {
			if !contains(g.IndicesOfEmail(strings.ToUpper(email)), i) {
				t.Fatalf("IndicesOfEmail(%q) = %v, want %d in it", email, g.IndicesOfEmail(email), i)
			}
		}
		if phone, ok := g.Phone(i); ok && phoneKey(phone) != "" {
			if !contains(g.IndicesOfPhone(phone), i) {
				t.Fatalf("IndicesOfPhone(%q) = %v, want %d in it", phone, g.IndicesOfPhone(phone), i)
			}
		}
	}
	for _, bad := range []string{"", "cust_12", "cust_+000012", "cust_9999999", "nope"} {
		if _, ok := g.IndexOfExternalID(bad); ok {
			t.Errorf("IndexOfExternalID(%q) found a user", bad)
		}
	}
	if _, ok := g.IndexOfBrazeID("000000000000000000000000"); ok {
		t.Error("IndexOfBrazeID of zeros found a user")
	}
}

func TestPhoneFormats(t *testing.T) {
	for _, c := range countries {
		for _, tpl := range c.phones {
			if got := strings.Count(tpl, "D"); got != 6 {
				t.Errorf("%s template %q has %d index digits, want 6", c.code, tpl, got)
			}
		}
	}
	g := New(1, 50000)
	formats := map[string]bool{}
	garbage, invalidEmail, dupPhone := 0, 0, 0
	for i := range g.N() {
		if p, ok := g.Phone(i); ok {
			if phoneKey(p) == "" {
				garbage++
			} else if i > 0 {
				if q, _ := g.Phone(i - 1); q == p {
					dupPhone++
				}
			}
			formats[strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return '9'
				}
				return r
			}, p)] = true
		}
		if e, ok := g.Email(i); ok && (strings.Count(e, "@") != 1 || strings.HasSuffix(e, "@") || strings.Contains(e, "..")) {
			invalidEmail++
		}
	}
	if len(formats) < 30 {
		t.Errorf("only %d phone formats", len(formats))
	}
	if garbage < 100 || garbage > 400 {
		t.Errorf("%d garbage phones in 50000, want ~250", garbage)
	}
	if invalidEmail < 50 || invalidEmail > 200 {
		t.Errorf("%d invalid emails in 50000, want ~100", invalidEmail)
	}
	if dupPhone == 0 {
		t.Error("no duplicated phones")
	}
}

func TestFilter(t *testing.T) {
	g := New(2, 100)
	tests := []struct {
		name   string
		filter *Filter
		keys   []string
		ca     []string
	}{
		{"fields", &Filter{Fields: map[string]bool{"braze_id": true, "first_name": true}}, []string{"braze_id", "first_name"}, nil},
		{"custom attributes subset", &Filter{Fields: map[string]bool{"braze_id": true}, CustomAttributes: map[string]bool{"vip": true}},
			[]string{"braze_id", "custom_attributes"}, []string{"vip"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range g.N() {
				if g.Malformed(i, 0) {
					continue
				}
				var m map[string]any
				if err := json.Unmarshal(g.AppendLine(nil, i, 1, tt.filter), &m); err != nil {
					t.Fatal(err)
				}
				if len(m) != len(tt.keys) {
					t.Fatalf("user %d: got keys %v, want %v", i, m, tt.keys)
				}
				for _, k := range tt.keys {
					if _, ok := m[k]; !ok {
						t.Fatalf("user %d: missing %s in %v", i, k, m)
					}
				}
				if tt.ca != nil {
					ca := m["custom_attributes"].(map[string]any)
					if len(ca) != len(tt.ca) {
						t.Fatalf("user %d: custom attributes %v, want %v", i, ca, tt.ca)
					}
				}
				full := g.User(i, 1)
				if m["braze_id"] != full["braze_id"] {
					t.Fatalf("user %d: filtered braze_id differs", i)
				}
			}
		})
	}
}

func TestAppendStringEscapes(t *testing.T) {
	for _, s := range []string{`plain`, `quo"te`, `back\slash`, "ctl\x01\n\t", "Zoë ☃", "bad\xffutf8"} {
		var got string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want, _ := json.Marshal(s)
		var w string
		_ = json.Unmarshal(want, &w)
		if got != w {
			t.Errorf("%q: got %q, want %q", s, got, w)
		}
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func BenchmarkLine(b *testing.B) {
	g := New(1, 1_000_000)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		buf = g.AppendLine(buf[:0], i%g.N(), i%3, nil)
	}
	b.SetBytes(int64(len(buf)))
}
