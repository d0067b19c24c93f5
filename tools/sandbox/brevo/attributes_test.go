package brevo

import "testing"

func TestDefaultAttributes(t *testing.T) {
	h := newHarness(t, Config{})
	r := h.do("GET", "/v3/contacts/attributes", nil).expect(t, 200, "")
	got := map[string]string{}
	for _, a := range r.body["attributes"].([]any) {
		m := a.(map[string]any)
		if m["category"] != "normal" {
			t.Fatalf("attribute %v not normal", m)
		}
		got[m["name"].(string)] = m["type"].(string)
	}
	for _, name := range []string{"FIRSTNAME", "LASTNAME", "SMS", "EXT_ID"} {
		if got[name] != "text" {
			t.Fatalf("fresh account lacks text attribute %s: %v", name, got)
		}
	}
}

func TestCreateAttribute(t *testing.T) {
	h := newHarness(t, Config{})
	cases := []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"float", "/normal/SCORE", map[string]any{"type": "float"}, 201, ""},
		{"lower-case name is upper-cased", "/normal/birthday", map[string]any{"type": "date"}, 201, ""},
		{"boolean", "/normal/VIP", map[string]any{"type": "boolean"}, 201, ""},
		{"multiple choice", "/normal/COLORS", map[string]any{"type": "multiple-choice", "multiCategoryOptions": []string{"red", "blue"}}, 201, ""},
		{"multiple choice without options", "/normal/SIZES", map[string]any{"type": "multiple-choice"}, 400, "missing_parameter"},
		{"existing", "/normal/SCORE", map[string]any{"type": "text"}, 400, "duplicate_parameter"},
		{"pre-existing", "/normal/FIRSTNAME", map[string]any{"type": "text"}, 400, "duplicate_parameter"},
		{"bad type", "/normal/X1", map[string]any{"type": "string"}, 400, "invalid_parameter"},
		{"id type is transactional only", "/normal/X2", map[string]any{"type": "id"}, 400, "invalid_parameter"},
		{"type not a string", "/normal/X3", map[string]any{"type": 3}, 400, "invalid_parameter"},
		{"bad category", "/weird/X4", map[string]any{"type": "text"}, 400, "invalid_parameter"},
		{"bad name", "/normal/9LIVES", map[string]any{"type": "text"}, 400, "invalid_parameter"},
		{"bad JSON", "/normal/X5", "{", 400, "invalid_parameter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.do("POST", "/v3/contacts/attributes"+tc.path, tc.body).expect(t, tc.status, tc.code)
		})
	}
	r := h.do("GET", "/v3/contacts/attributes", nil).expect(t, 200, "")
	types := map[string]string{}
	for _, a := range r.body["attributes"].([]any) {
		m := a.(map[string]any)
		types[m["name"].(string)] = m["type"].(string)
	}
	want := map[string]string{"SCORE": "float", "BIRTHDAY": "date", "VIP": "boolean", "COLORS": "multiple-choice"}
	for n, typ := range want {
		if types[n] != typ {
			t.Fatalf("attribute %s has type %q, want %q (all: %v)", n, types[n], typ, types)
		}
	}
	if _, ok := types["X1"]; ok {
		t.Fatal("a refused attribute was created")
	}
}

// TestAttributeTyping checks Brevo's rule that a value of the wrong type is
// silently ignored (the old value stays), except badly formatted dates.
func TestAttributeTyping(t *testing.T) {
	h := newHarness(t, Config{})
	h.createAttr("SCORE", "float")
	h.createAttr("DOB", "date")
	h.createAttr("VIP", "boolean")
	h.do("POST", "/v3/contacts/attributes/normal/COLORS",
		map[string]any{"type": "multiple-choice", "multiCategoryOptions": []string{"red", "blue"}}).expect(t, 201, "")
	h.do("POST", "/v3/contacts", map[string]any{"email": "t@example.com", "attributes": map[string]any{
		"SCORE": 1.5, "DOB": "1990-04-01", "VIP": true, "FIRSTNAME": "Ann", "COLORS": []string{"red"},
	}}).expect(t, 201, "")

	cases := []struct {
		name   string
		attrs  map[string]any
		status int
		want   map[string]any // expected attribute values afterwards
	}{
		{"text into float ignored", map[string]any{"SCORE": "abc"}, 204, map[string]any{"SCORE": 1.5}},
		{"number into text ignored", map[string]any{"FIRSTNAME": 12}, 204, map[string]any{"FIRSTNAME": "Ann"}},
		{"string into boolean ignored", map[string]any{"VIP": "false"}, 204, map[string]any{"VIP": true}},
		{"unknown option ignored", map[string]any{"COLORS": []string{"green"}}, 204, map[string]any{"COLORS": []any{"red"}}},
		{"number into date ignored", map[string]any{"DOB": 19900401}, 204, map[string]any{"DOB": "1990-04-01"}},
		{"date in another format refused", map[string]any{"DOB": "01/04/1990"}, 400, map[string]any{"DOB": "1990-04-01"}},
		{"date with time refused", map[string]any{"DOB": "1990-04-01T00:00:00Z"}, 400, map[string]any{"DOB": "1990-04-01"}},
		{"unknown attribute ignored", map[string]any{"NOPE": "x", "SCORE": 2}, 204, map[string]any{"SCORE": 2.0}},
		{"good values stored", map[string]any{"VIP": false, "DOB": "2001-12-31", "COLORS": []string{"blue", "red"}}, 204,
			map[string]any{"VIP": false, "DOB": "2001-12-31", "COLORS": []any{"blue", "red"}}},
		{"empty string erases", map[string]any{"FIRSTNAME": ""}, 204, map[string]any{"FIRSTNAME": nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", "/v3/contacts", map[string]any{"email": "t@example.com", "updateEnabled": true, "attributes": tc.attrs})
			r.expect(t, tc.status, "")
			if tc.status == 400 && r.body["code"] != "invalid_parameter" {
				t.Fatalf("body %s", r.raw)
			}
			got := h.do("GET", "/v3/contacts/t@example.com", nil).expect(t, 200, "").body["attributes"].(map[string]any)
			for k, v := range tc.want {
				if v == nil {
					if _, ok := got[k]; ok {
						t.Fatalf("%s still set: %v", k, got)
					}
					continue
				}
				if !equalJSON(got[k], v) {
					t.Fatalf("%s = %#v, want %#v", k, got[k], v)
				}
			}
		})
	}
	if n := h.srv.State().UnknownAttributes["NOPE"]; n != 1 {
		t.Fatalf("unknown attribute counted %d times, want 1", n)
	}
}

func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	return a == b
}
