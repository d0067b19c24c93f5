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
		{"escaped key", `{"braze\u005fid":"k"}`, "k", ""},
		{"missing", `{"email":"a@b.c"}`, "", "no_braze_id"},
		{"empty", `{"braze_id":""}`, "", "no_braze_id"},
		{"number, read as the transformer reads it", `{"braze_id":12}`, "12", ""},
		{"invalid UTF-8", "{\"braze_id\":\"a\xffb\"}", "", "no_braze_id"},
		{"trailing data", `{"braze_id":"x"}{}`, "", "malformed_json"},
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

// benchExportLine is a realistic export line (pkg/mapping's benchmark
// line): the mapped fields and the arrays around them.
const benchExportLine = `{"created_at":"2020-07-10 15:00:00.000 UTC","external_id":"A8i3mkd99","user_aliases":[{"alias_name":"user_123","alias_label":"amplitude_id"}],"braze_id":"5fbd99bac125ca40511f2cb1","random_bucket":2365,"first_name":"Jane","last_name":"Doe","email":"Example@Braze.com","dob":"1980-12-21","home_city":"Chicago","country":"US","phone":"(415) 555-2671","language":"en","time_zone":"Eastern Time (US & Canada)","last_coordinates":[41.84157636433568,-87.83520818508256],"gender":"F","total_revenue":65,"push_subscribe":"opted_in","push_opted_in_at":"2020-01-26T22:45:53.953Z","email_subscribe":"subscribed","custom_attributes":{"loyaltyId":"37c98b9d-9a7f-4b2f-a125-d873c5152856","loyalty_points":"321","last_app_version":"3.29.0","preferred_language":"en","vip":true,"interests":["golf","tennis"]},"custom_events":[{"name":"Loyalty Acknowledgement","first":"2021-06-28T17:02:43.032Z","last":"2021-06-28T17:02:43.032Z","count":1},{"name":"Added to Cart","first":"2021-06-28T17:02:43.032Z","last":"2022-01-02T10:00:00.000Z","count":14}],"purchases":[{"name":"item_40834","first":"2021-09-05T03:45:50.540Z","last":"2022-06-03T17:30:41.201Z","count":10}],"devices":[{"model":"Pixel XL","os":"Android (Q)","carrier":null,"device_id":"312ef2c1-83db-4789-967-554545a1bf7a","ad_tracking_enabled":true}],"push_tokens":[{"app":"MovieCanon","platform":"Android","token":"12345abcd","device_id":"312ef2c1-83db-4789-967-554545a1bf7a","notifications_enabled":true}],"apps":[{"name":"MovieCannon","platform":"Android","version":"3.29.0","sessions":1129,"first_used":"2020-02-02T19:56:19.142Z","last_used":"2021-11-11T00:25:19.201Z"}],"campaigns_received":[{"name":"Email Unsubscribe","api_campaign_id":"d72fdc84-ddda-44f1-a0d5-0e79f47ef942","last_received":"2022-06-02T03:07:38.105Z","engaged":{"opened_email":true},"converted":true,"multiple_converted":{"Primary Conversion Event - A":true},"in_control":false,"variation_name":"Variant 1","variation_api_id":"1bddc73a-a134-4784-9134-5b5574a9e0b8"}]}`

func BenchmarkBrazeID(b *testing.B) {
	line := []byte(benchExportLine)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if id, reason, _ := brazeID(line); id == "" {
			b.Fatal(reason)
		}
	}
}
