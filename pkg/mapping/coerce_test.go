package mapping

import (
	"encoding/json"
	"testing"
)

func mustValue(t *testing.T, raw string) value {
	t.Helper()
	if !json.Valid([]byte(raw)) {
		t.Fatalf("test input %s is not JSON", raw)
	}
	v, err := decodeValue(json.RawMessage(raw))
	if err != nil {
		t.Fatalf("decodeValue(%s): %v", raw, err)
	}
	return v
}

func TestToFloat(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{in: `12`, want: 12},
		{in: `12.5`, want: 12.5},
		{in: `-0.25`, want: -0.25},
		{in: `1e3`, want: 1000},
		{in: `"12"`, want: 12},
		{in: `" 12.5 "`, want: 12.5},
		{in: `"+7"`, want: 7},
		{in: `"0012"`, want: 12},
		{in: `"-1.5E2"`, want: -150},
		{in: `"NaN"`, wantErr: true},
		{in: `"Inf"`, wantErr: true},
		{in: `"-infinity"`, wantErr: true},
		{in: `"0x1p3"`, wantErr: true},
		{in: `"1_000"`, wantErr: true},
		{in: `"1,5"`, wantErr: true},
		{in: `"12abc"`, wantErr: true},
		{in: `"1e"`, wantErr: true},
		{in: `"."`, wantErr: true},
		{in: `1e400`, wantErr: true},
		{in: `"1e400"`, wantErr: true},
		{in: `true`, wantErr: true},
		{in: `[1]`, wantErr: true},
		{in: `{"a":1}`, wantErr: true},
		{in: `"  "`, wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := toFloat(mustValue(t, tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("toFloat(%s) error = %v, want error: %v", tc.in, err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Errorf("toFloat(%s) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestToBool(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{in: `true`, want: true},
		{in: `false`, want: false},
		{in: `"true"`, want: true},
		{in: `"FALSE"`, want: false},
		{in: `"yes"`, want: true},
		{in: `" No "`, want: false},
		{in: `"1"`, want: true},
		{in: `"0"`, want: false},
		{in: `1`, want: true},
		{in: `0`, want: false},
		{in: `2`, wantErr: true},
		{in: `1.0`, wantErr: true},
		{in: `"maybe"`, wantErr: true},
		{in: `"y"`, wantErr: true},
		{in: `[true]`, wantErr: true},
		{in: `{}`, wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := toBool(mustValue(t, tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("toBool(%s) error = %v, want error: %v", tc.in, err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Errorf("toBool(%s) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestToDate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{name: "braze created_at", in: `"2020-07-10 15:00:00.000 UTC"`, want: "2020-07-10"},
		{name: "space UTC without fraction", in: `"2020-07-10 23:59:59 UTC"`, want: "2020-07-10"},
		{name: "GMT name", in: `"2020-07-10 15:00:00 GMT"`, want: "2020-07-10"},
		{name: "unknown zone abbreviation", in: `"2020-07-10 23:00:00 EST"`, wantErr: true},
		{name: "rfc3339 Z with millis", in: `"2020-01-26T22:45:53.953Z"`, want: "2020-01-26"},
		{name: "rfc3339 +00:00", in: `"2021-07-07T20:45:24.000+00:00"`, want: "2021-07-07"},
		{name: "rfc3339 no fraction", in: `"2021-07-07T20:45:24Z"`, want: "2021-07-07"},
		{name: "offset crosses midnight forward", in: `"2024-05-01T23:30:00-05:00"`, want: "2024-05-02"},
		{name: "offset crosses midnight back", in: `"2024-05-01T01:30:00+02:00"`, want: "2024-04-30"},
		{name: "offset without colon", in: `"2024-05-01T23:30:00-0500"`, want: "2024-05-02"},
		{name: "space with offset", in: `"2023-12-31 23:59:59 +0100"`, want: "2023-12-31"},
		{name: "no zone means UTC", in: `"2024-05-01T10:00:00.123"`, want: "2024-05-01"},
		{name: "space no zone", in: `"2024-05-01 10:00:00"`, want: "2024-05-01"},
		{name: "date only", in: `"2024-05-01"`, want: "2024-05-01"},
		{name: "date only padded", in: `" 1980-12-21 "`, want: "1980-12-21"},
		{name: "unix seconds", in: `1714521600`, want: "2024-05-01"},
		{name: "unix seconds string", in: `"1714521600"`, want: "2024-05-01"},
		{name: "unix seconds fraction", in: `1714607999.9`, want: "2024-05-01"},
		{name: "unix millis", in: `1714521600123`, want: "2024-05-01"},
		{name: "epoch", in: `0`, want: "1970-01-01"},
		{name: "negative unix", in: `-5`, wantErr: true},
		{name: "huge", in: `1e300`, wantErr: true},
		{name: "invalid day", in: `"2024-02-30"`, wantErr: true},
		{name: "us style", in: `"05/01/2024"`, wantErr: true},
		{name: "words", in: `"yesterday"`, wantErr: true},
		{name: "boolean", in: `true`, wantErr: true},
		{name: "array", in: `["2024-05-01"]`, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := toDate(mustValue(t, tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("toDate(%s) = %q, %v; want error: %v", tc.in, got, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("toDate(%s) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestToText(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: `"  hello "`, want: "hello"},
		{in: `"Jos\u00e9"`, want: "José"},
		{in: `"line\nbreak"`, want: "line\nbreak"},
		{in: `12`, want: "12"},
		{in: `-3`, want: "-3"},
		{in: `12.50`, want: "12.5"},
		{in: `1e3`, want: "1000"},
		{in: `12345678901234567890`, want: "12345678901234567890"},
		{in: `true`, want: "true"},
		{in: `false`, want: "false"},
		{in: `["a"," b ",3,true]`, want: "a,b,3,true"},
		{in: `["a",null,""]`, want: "a"},
		{in: `[41.84,-87.83]`, want: "41.84,-87.83"},
		{in: `[null]`, wantErr: true},
		{in: `[["nested"]]`, wantErr: true},
		{in: `[{"a":1}]`, wantErr: true},
		{in: `{"a":1}`, wantErr: true},
		{in: `"   "`, wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := toText(mustValue(t, tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("toText(%s) = %q, %v; want error: %v", tc.in, got, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("toText(%s) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "jane@example.com", want: "jane@example.com"},
		{in: "  Jane.Doe+tag@Example.CO.UK ", want: "jane.doe+tag@example.co.uk"},
		{in: "o'brien@example.ie", want: "o'brien@example.ie"},
		{in: "jane@localhost", wantErr: true},
		{in: "Jane <jane@example.com>", wantErr: true},
		{in: "<jane@example.com>", wantErr: true},
		{in: "jane@example..com", wantErr: true},
		{in: "jane@.example.com", wantErr: true},
		{in: "jane@example.com.", wantErr: true},
		{in: "jane.example.com", wantErr: true},
		{in: "jane@exa mple.com", wantErr: true},
		{in: "a@b@example.com", wantErr: true},
		{in: "jane@example.com, bob@example.com", wantErr: true},
		{in: "", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := normalizeEmail(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("normalizeEmail(%q) = %q, %v; want error: %v", tc.in, got, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("normalizeEmail(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRailsTimeZone(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"Eastern Time (US & Canada)", "America/New_York", true},
		{"Pacific Time (US & Canada)", "America/Los_Angeles", true},
		{"International Date Line West", "Etc/GMT+12", true},
		{"Indiana (East)", "America/Indiana/Indianapolis", true},
		{"Kyiv", "Europe/Kiev", true},
		{"Kyev", "Europe/Kiev", true},
		{"Nuku'alofa", "Pacific/Tongatapu", true},
		{"UTC", "Etc/UTC", true},
		{"(GMT-05:00) Eastern Time (US & Canada)", "America/New_York", true},
		{"  Paris ", "Europe/Paris", true},
		{"America/New_York", "", false},
		{"eastern time (us & canada)", "", false},
		{"", "", false},
	} {
		got, ok := RailsTimeZone(tc.in)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("RailsTimeZone(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
	if n := len(railsZones); n < 150 {
		t.Errorf("railsZones has %d entries; ActiveSupport maps about 150", n)
	}
}
