package mapping

import (
	"errors"
	"slices"
	"testing"
)

func TestIdentityAgreesWithMap(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, line         string
		brazeID, ext, mail string
		reason             string // a *RecordError's
	}{
		{"ext_id and email", `{"braze_id":"b1","external_id":"cust_1","email":" Ana@Example.COM "}`, "b1", "cust_1", "ana@example.com", ""},
		{"email only", `{"braze_id":"b2","email":"bo@example.com","first_name":"Bo"}`, "b2", "", "bo@example.com", ""},
		{"invalid email", `{"braze_id":"b3","external_id":"cust_3","email":"not-an-address"}`, "b3", "cust_3", "", ""},
		{"numeric external_id", `{"braze_id":"b4","external_id":42}`, "b4", "42", "", ""},
		{"neither", `{"braze_id":"b5"}`, "b5", "", "", ""},
		{"no braze_id", `{"external_id":"cust_6"}`, "", "", "", ReasonNoBrazeID},
		{"not an object", `[1]`, "", "", "", ReasonMalformedJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bid, ext, mail, err := m.Identity([]byte(tc.line))
			var re *RecordError
			if tc.reason != "" {
				if !errors.As(err, &re) || re.Reason != tc.reason {
					t.Fatalf("err %v, want reason %s", err, tc.reason)
				}
				return
			}
			if err != nil || bid != tc.brazeID || ext != tc.ext || mail != tc.mail {
				t.Fatalf("Identity = %q %q %q %v, want %q %q %q", bid, ext, mail, err, tc.brazeID, tc.ext, tc.mail)
			}
			// Map names the contact the same way when it makes one.
			if c, err := m.Map([]byte(tc.line)); err == nil && (c.ExtID != ext || c.Email != mail) {
				t.Fatalf("Map: ext %q email %q; Identity: %q %q", c.ExtID, c.Email, ext, mail)
			}
		})
	}
}

func TestIdentityFieldsFollowTheEmailSource(t *testing.T) {
	m, err := New(Options{Fields: map[string]string{"work_email": "email", "first_name": "FIRSTNAME"}})
	if err != nil {
		t.Fatal(err)
	}
	fields, custom := m.IdentityFields()
	if !slices.Equal(fields, []string{"braze_id", "custom_attributes", "email", "external_id"}) || !slices.Equal(custom, []string{"work_email"}) {
		t.Fatalf("fields %v custom %v", fields, custom)
	}
	_, _, mail, err := m.Identity([]byte(`{"braze_id":"b","email":"x@example.com","custom_attributes":{"work_email":"w@example.com"}}`))
	if err != nil || mail != "w@example.com" {
		t.Fatalf("email %q %v, want the custom attribute's", mail, err)
	}
}
