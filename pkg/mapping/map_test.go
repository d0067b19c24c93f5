package mapping

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want []string // substrings of the OptionErrors, in order
	}{
		{name: "defaults are valid", opts: Options{}},
		{name: "lower-case target", opts: Options{Fields: map[string]string{"first_name": "firstName"}},
			want: []string{`Fields["first_name"]: Brevo attribute "firstName" must start with an upper-case letter`}},
		{name: "dash in target", opts: Options{Fields: map[string]string{"first_name": "FIRST-NAME"}},
			want: []string{`must be UPPER_SNAKE_CASE: A-Z, 0-9 and _ (example: FIRST_NAME)`}},
		{name: "digit first", opts: Options{Fields: map[string]string{"score": "1SCORE"}},
			want: []string{`must start with an upper-case letter (example: A_1SCORE)`}},
		{name: "EMAIL attribute", opts: Options{Fields: map[string]string{"email": "EMAIL"}},
			want: []string{`EMAIL is Brevo's email identifier; use the target "email" instead`}},
		{name: "duplicate target", opts: Options{Fields: map[string]string{"first_name": "NAME", "last_name": "NAME"}},
			want: []string{`Fields["last_name"]: NAME is already the target of first_name`}},
		{name: "list field", opts: Options{Fields: map[string]string{"apps": "APPS"}},
			want: []string{`apps is a list of objects`}},
		{name: "unknown type", opts: Options{Types: map[string]string{"SCORE": "integer"}},
			want: []string{`Types["SCORE"]: unknown attribute type "integer": use text, float, boolean or date (Brevo has no integer type: use float)`}},
		{name: "phone must be text", opts: Options{Types: map[string]string{"SMS": TypeFloat}},
			want: []string{`Types["SMS"]: SMS holds the phone number in E.164 and must be text, not float`}},
		{name: "bad region", opts: Options{DefaultRegion: "USA"},
			want: []string{`DefaultRegion: "USA" is not a known ISO 3166-1 alpha-2 region`}},
		{name: "all errors at once", opts: Options{
			Fields:        map[string]string{"a": "a", "b": "b"},
			Types:         map[string]string{"X": "int"},
			DefaultRegion: "XX",
		}, want: []string{`DefaultRegion`, `Types["X"]`, `Fields["a"]`, `Fields["b"]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			var errs OptionErrors
			if !errors.As(err, &errs) {
				t.Fatalf("New error = %v, want OptionErrors", err)
			}
			if len(errs) != len(tc.want) {
				t.Fatalf("New gave %d errors, want %d: %v", len(errs), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i].Error(), w)
				}
			}
		})
	}
}

func TestAttributes(t *testing.T) {
	m, err := New(Options{Types: map[string]string{"LOYALTY_POINTS": TypeText}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Attribute{
		{"APP_VERSION", TypeText}, {"BRAZE_ID", TypeText}, {"EMAIL_STATUS", TypeText},
		{"FIRSTNAME", TypeText}, {"LANGUAGE", TypeText}, {"LASTNAME", TypeText},
		{"LOYALTY_POINTS", TypeText}, {"PUSH_OPTIN", TypeBoolean}, {"SMS", TypeText},
		{"TOTAL_REVENUE", TypeFloat},
	}
	if got := m.Attributes(); !reflect.DeepEqual(got, want) {
		t.Errorf("Attributes() =\n%v\nwant\n%v", got, want)
	}
}

func TestMapEmailFromCustomAttribute(t *testing.T) {
	m, err := New(Options{Fields: map[string]string{"work_email": TargetEmail, "first_name": "FIRSTNAME"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Map([]byte(`{"braze_id":"b1","email":"home@example.com","custom_attributes":{"work_email":"Work@Example.com"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Email != "work@example.com" || c.Key != "braze:b1" {
		t.Errorf("Email, Key = %q, %q; want the custom attribute work_email", c.Email, c.Key)
	}
	// Without a field mapped to "email" a user needs an external id.
	m, err = New(Options{Fields: map[string]string{"first_name": "FIRSTNAME"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Map([]byte(`{"braze_id":"b1","email":"home@example.com"}`))
	var re *RecordError
	if !errors.As(err, &re) || re.Reason != ReasonNoIdentifier {
		t.Errorf("Map error = %v, want %s", err, ReasonNoIdentifier)
	}
}

func TestMapDefaultRegion(t *testing.T) {
	line := []byte(`{"external_id":"u1","braze_id":"b1","phone":"06 12 34 56 78"}`)
	for region, want := range map[string]any{"FR": "+33612345678", "US": nil} {
		m, err := New(Options{DefaultRegion: region})
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.Map(line)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Attributes["SMS"]; got != want && !(want == nil && got == nil) {
			t.Errorf("region %s: SMS = %v, want %v", region, got, want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	base := Contact{ExtID: "u1", Email: "a@example.com", Attributes: map[string]any{"A": "x", "B": 1.0, "C": true}}
	fp := base.Fingerprint()
	if len(fp) != 32 {
		t.Fatalf("Fingerprint() = %q, want 32 hex digits", fp)
	}
	same := Contact{BrazeID: "other", ExtID: "u1", Email: "a@example.com", Warnings: []string{"w"},
		Attributes: map[string]any{"C": true, "B": 1.0, "A": "x"}}
	if got := same.Fingerprint(); got != fp {
		t.Errorf("equal content, different BrazeID/warnings/insertion order: %s != %s", got, fp)
	}
	for name, c := range map[string]Contact{
		"ext id":          {ExtID: "u2", Email: "a@example.com", Attributes: base.Attributes},
		"email":           {ExtID: "u1", Email: "b@example.com", Attributes: base.Attributes},
		"string vs float": {ExtID: "u1", Email: "a@example.com", Attributes: map[string]any{"A": "x", "B": "1", "C": true}},
		"bool vs string":  {ExtID: "u1", Email: "a@example.com", Attributes: map[string]any{"A": "x", "B": 1.0, "C": "true"}},
		"value moved":     {ExtID: "u1", Email: "a@example.com", Attributes: map[string]any{"A": "", "B": 1.0, "C": true, "Ax": ""}},
		"missing attr":    {ExtID: "u1", Email: "a@example.com", Attributes: map[string]any{"A": "x", "B": 1.0}},
		"id into email":   {ExtID: "", Email: "u1a@example.com", Attributes: base.Attributes},
	} {
		if c.Fingerprint() == fp {
			t.Errorf("%s: a different contact has the same fingerprint", name)
		}
	}
}

func TestMapIsSafeForConcurrentUse(t *testing.T) {
	m, err := New(extendedOptions())
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(benchLine)
	want, err := m.Map(line)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan Contact, 4)
	for range 4 {
		go func() {
			c, _ := m.Map(line)
			done <- c
		}()
	}
	for range 4 {
		if got := <-done; got.Fingerprint() != want.Fingerprint() {
			t.Errorf("concurrent Map gave %v, want %v", got, want)
		}
	}
}

// benchLine is a realistic export line: the mapped fields plus the arrays
// (campaigns, canvases, devices, apps) Map must skip.
const benchLine = `{"created_at":"2020-07-10 15:00:00.000 UTC","external_id":"A8i3mkd99","user_aliases":[{"alias_name":"user_123","alias_label":"amplitude_id"}],"braze_id":"5fbd99bac125ca40511f2cb1","random_bucket":2365,"first_name":"Jane","last_name":"Doe","email":"Example@Braze.com","dob":"1980-12-21","home_city":"Chicago","country":"US","phone":"(415) 555-2671","language":"en","time_zone":"Eastern Time (US & Canada)","last_coordinates":[41.84157636433568,-87.83520818508256],"gender":"F","total_revenue":65,"push_subscribe":"opted_in","push_opted_in_at":"2020-01-26T22:45:53.953Z","email_subscribe":"subscribed","custom_attributes":{"loyaltyId":"37c98b9d-9a7f-4b2f-a125-d873c5152856","loyalty_points":"321","last_app_version":"3.29.0","preferred_language":"en","vip":true,"interests":["golf","tennis"]},"custom_events":[{"name":"Loyalty Acknowledgement","first":"2021-06-28T17:02:43.032Z","last":"2021-06-28T17:02:43.032Z","count":1},{"name":"Added to Cart","first":"2021-06-28T17:02:43.032Z","last":"2022-01-02T10:00:00.000Z","count":14}],"purchases":[{"name":"item_40834","first":"2021-09-05T03:45:50.540Z","last":"2022-06-03T17:30:41.201Z","count":10}],"devices":[{"model":"Pixel XL","os":"Android (Q)","carrier":null,"device_id":"312ef2c1-83db-4789-967-554545a1bf7a","ad_tracking_enabled":true}],"push_tokens":[{"app":"MovieCanon","platform":"Android","token":"12345abcd","device_id":"312ef2c1-83db-4789-967-554545a1bf7a","notifications_enabled":true}],"apps":[{"name":"MovieCannon","platform":"Android","version":"3.29.0","sessions":1129,"first_used":"2020-02-02T19:56:19.142Z","last_used":"2021-11-11T00:25:19.201Z"}],"campaigns_received":[{"name":"Email Unsubscribe","api_campaign_id":"d72fdc84-ddda-44f1-a0d5-0e79f47ef942","last_received":"2022-06-02T03:07:38.105Z","engaged":{"opened_email":true},"converted":true,"multiple_converted":{"Primary Conversion Event - A":true},"in_control":false,"variation_name":"Variant 1","variation_api_id":"1bddc73a-a134-4784-9134-5b5574a9e0b8"},{"name":"Welcome","api_campaign_id":"a72fdc84-ddda-44f1-a0d5-0e79f47ef943","last_received":"2022-01-02T03:07:38.105Z","engaged":{"opened_email":false},"converted":false,"in_control":false}],"canvases_received":[{"name":"Onboarding","api_canvas_id":"46972a9d-dc81-473f-aa03-e3473b4ed781","last_received_message":"2021-07-07T20:46:24.136Z","last_entered":"2021-07-07T20:45:24.000+00:00","variation_name":"Variant 1","in_control":false,"last_entered_control_at":null,"last_exited":"2021-07-07T20:46:24.136Z","steps_received":[{"name":"Step","api_canvas_step_id":"43d1a349-c3c8-4be1-9fbe-ce708e4d1c39","last_received":"2021-07-07T20:46:24.136Z"}]}]}`

func BenchmarkMap(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts Options
	}{{"default", Options{}}, {"extended", extendedOptions()}} {
		m, err := New(bc.opts)
		if err != nil {
			b.Fatal(err)
		}
		line := []byte(benchLine)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Map(line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
