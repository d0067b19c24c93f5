package faults

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Spec
		errHas   []string // all must appear in the error; nil: no error
	}{
		{name: "empty", in: "", want: Spec{}},
		{name: "blank", in: "  ", want: Spec{}},
		{name: "issue example", in: "429=0.02,5xx=0.05,timeout=0.01,reset=0.005,latency=20ms±10ms,truncate=0.005",
			want: Spec{TooManyRequests: 0.02, ServerError: 0.05, Timeout: 0.01, Reset: 0.005, Truncate: 0.005,
				Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond}},
		{name: "ascii plus-minus and spaces", in: " lost = 0.01 , latency = 5ms +- 1ms ",
			want: Spec{Lost: 0.01, Latency: 5 * time.Millisecond, Jitter: time.Millisecond}},
		{name: "latency without jitter", in: "latency=1s", want: Spec{Latency: time.Second}},
		{name: "upper-case kind", in: "TIMEOUT=1", want: Spec{Timeout: 1}},
		{name: "rates summing to one", in: "429=0.5,5xx=0.5", want: Spec{TooManyRequests: 0.5, ServerError: 0.5}},
		{name: "unknown kind", in: "429=0.1,404=0.2", errHas: []string{`"404=0.2"`, `unknown fault "404"`, "e.g. 429=0.02"}},
		{name: "no equals", in: "timeout", errHas: []string{`"timeout"`, "KIND=VALUE"}},
		{name: "not a number", in: "5xx=lots", errHas: []string{`"5xx=lots"`, "probability from 0 to 1"}},
		{name: "percent", in: "5xx=5%", errHas: []string{`"5xx=5%"`, "probability"}},
		{name: "over one", in: "reset=1.5", errHas: []string{`"reset=1.5"`, "probability"}},
		{name: "negative", in: "reset=-0.1", errHas: []string{"probability"}},
		{name: "NaN", in: "reset=NaN", errHas: []string{"probability"}},
		{name: "sum over one", in: "429=0.6,5xx=0.6", errHas: []string{"sum to 1.2"}},
		{name: "twice", in: "429=0.1,429=0.2", errHas: []string{`"429" given twice`}},
		{name: "trailing comma", in: "429=0.1,", errHas: []string{"empty item"}},
		{name: "bad mean", in: "latency=fast", errHas: []string{`"latency=fast"`, "duration"}},
		{name: "bad jitter", in: "latency=20ms±x", errHas: []string{"jitter", "duration"}},
		{name: "jitter over mean", in: "latency=10ms±20ms", errHas: []string{"must not exceed the mean"}},
		{name: "negative latency", in: "latency=-1ms", errHas: []string{"negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.errHas == nil {
				if err != nil {
					t.Fatalf("Parse(%q): %v", tc.in, err)
				}
				if got != tc.want {
					t.Fatalf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tc.in, got)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			for _, s := range append(tc.errHas, "want comma-separated KIND=PROBABILITY") {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestStringRoundTrips(t *testing.T) {
	for _, s := range []Spec{
		{},
		{TooManyRequests: 0.02, Latency: 20 * time.Millisecond},
		{ServerError: 0.05, Timeout: 0.01, Reset: 0.005, Lost: 0.01, Truncate: 0.005,
			Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond},
	} {
		got, err := Parse(s.String())
		if err != nil || got != s {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", s.String(), got, err, s)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("429=0.02,5xx=0.05,timeout=0.01,reset=0.005,latency=20ms±10ms,truncate=0.005")
	f.Add("lost=1,latency=1s+-1s")
	f.Add("5xx=,=")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(in)
		if err != nil {
			return
		}
		if verr := s.Validate(); verr != nil {
			t.Fatalf("Parse(%q) returned %+v, which fails Validate: %v", in, s, verr)
		}
		again, err := Parse(s.String())
		if err != nil || again != s {
			t.Fatalf("Parse(%q).String() = %q does not parse back: %+v, %v", in, s.String(), again, err)
		}
	})
}
