package faults

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Spec is how often each fault happens: probabilities per request, whose sum
// is at most 1 (a request gets at most one fault), plus a latency every
// request pays. The zero Spec injects nothing.
type Spec struct {
	TooManyRequests float64 // "429": a 429 with the vendor's rate-limit headers
	ServerError     float64 // "5xx": a 500, 502 or 503 with a vendor-shaped body
	Timeout         float64 // "timeout": no answer until the client gives up
	Reset           float64 // "reset": the connection is reset before handling
	Lost            float64 // "lost": handled, then the connection is reset
	Truncate        float64 // "truncate": handled, the body is cut short
	// Latency is added before every request, Jitter around it uniformly:
	// "latency=20ms±10ms" sleeps 10ms to 30ms.
	Latency, Jitter time.Duration
}

// ErrInvalid is wrapped by every error Parse and Validate return.
var ErrInvalid = errors.New("invalid fault spec")

// validForm is appended to parse errors so the user sees how to write it.
const validForm = "want comma-separated KIND=PROBABILITY (KIND one of 429, 5xx, timeout, reset, lost, truncate; " +
	"PROBABILITY from 0 to 1) and latency=MEAN±JITTER (or MEAN+-JITTER), " +
	"e.g. 429=0.02,5xx=0.05,timeout=0.01,reset=0.005,lost=0.01,truncate=0.005,latency=20ms±10ms"

type rate struct {
	name string
	p    *float64
}

// rates lists the probability fields in the order requests draw them, with
// the names Parse and String use.
func (s *Spec) rates() []rate {
	return []rate{
		{"429", &s.TooManyRequests}, {"5xx", &s.ServerError}, {"timeout", &s.Timeout},
		{"reset", &s.Reset}, {"lost", &s.Lost}, {"truncate", &s.Truncate},
	}
}

// Parse reads a spec such as
// "429=0.02,5xx=0.05,timeout=0.01,reset=0.005,latency=20ms±10ms,truncate=0.005".
// Items may come in any order, each at most once; "+-" may stand for "±" and
// the jitter may be left out ("latency=20ms"). The empty string is the zero
// Spec.
func Parse(text string) (Spec, error) {
	var s Spec
	seen := map[string]bool{}
	for item := range strings.SplitSeq(text, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			if strings.TrimSpace(text) == "" {
				break
			}
			return Spec{}, fmt.Errorf("%w: empty item in %q; %s", ErrInvalid, text, validForm)
		}
		name, value, ok := strings.Cut(item, "=")
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return Spec{}, fmt.Errorf("%w: item %q is not KIND=VALUE; %s", ErrInvalid, item, validForm)
		}
		if seen[name] {
			return Spec{}, fmt.Errorf("%w: %q given twice; %s", ErrInvalid, name, validForm)
		}
		seen[name] = true
		if err := s.set(name, value); err != nil {
			return Spec{}, fmt.Errorf("%w: item %q: %v; %s", ErrInvalid, item, err, validForm)
		}
	}
	if err := s.Validate(); err != nil {
		return Spec{}, fmt.Errorf("%w; %s", err, validForm)
	}
	return s, nil
}

// set assigns one item's value; its errors name only the problem, Parse adds
// the item and the valid form.
func (s *Spec) set(name, value string) error {
	if name == "latency" {
		return s.setLatency(value)
	}
	for _, r := range s.rates() {
		if r.name != name {
			continue
		}
		p, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(p) || p < 0 || p > 1 {
			return fmt.Errorf("%q is not a probability from 0 to 1", value)
		}
		*r.p = p
		return nil
	}
	return fmt.Errorf("unknown fault %q", name)
}

func (s *Spec) setLatency(value string) error {
	mean, jitter, ok := strings.Cut(value, "±")
	if !ok {
		mean, jitter, ok = strings.Cut(value, "+-")
	}
	var err error
	if s.Latency, err = time.ParseDuration(strings.TrimSpace(mean)); err != nil {
		return fmt.Errorf("mean %q is not a duration such as 20ms", mean)
	}
	if ok {
		if s.Jitter, err = time.ParseDuration(strings.TrimSpace(jitter)); err != nil {
			return fmt.Errorf("jitter %q is not a duration such as 10ms", jitter)
		}
	}
	return nil
}

// Validate reports a Spec Parse would not return: probabilities outside 0..1
// or summing over 1, negative durations, jitter larger than the latency.
func (s Spec) Validate() error {
	sum := 0.0
	for _, r := range s.rates() {
		if math.IsNaN(*r.p) || *r.p < 0 || *r.p > 1 {
			return fmt.Errorf("%w: %s=%v is not a probability from 0 to 1", ErrInvalid, r.name, *r.p)
		}
		sum += *r.p
	}
	switch {
	case sum > 1+1e-9:
		return fmt.Errorf("%w: the probabilities sum to %v, more than 1 (a request gets at most one fault)", ErrInvalid, sum)
	case s.Latency < 0 || s.Jitter < 0:
		return fmt.Errorf("%w: latency=%v±%v is negative", ErrInvalid, s.Latency, s.Jitter)
	case s.Jitter > s.Latency:
		return fmt.Errorf("%w: latency=%v±%v: the jitter must not exceed the mean", ErrInvalid, s.Latency, s.Jitter)
	}
	return nil
}

// IsZero reports whether the Spec injects nothing.
func (s Spec) IsZero() bool { return s == Spec{} }

// String is the spec in Parse's form, zero items left out:
// Parse(s.String()) == s.
func (s Spec) String() string {
	var items []string
	for _, r := range s.rates() {
		if *r.p != 0 {
			items = append(items, r.name+"="+strconv.FormatFloat(*r.p, 'g', -1, 64))
		}
	}
	switch {
	case s.Jitter != 0:
		items = append(items, "latency="+s.Latency.String()+"±"+s.Jitter.String())
	case s.Latency != 0:
		items = append(items, "latency="+s.Latency.String())
	}
	return strings.Join(items, ",")
}
