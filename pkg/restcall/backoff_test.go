package restcall

import (
	"errors"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: 10 * time.Second, Multiplier: 2}
	for attempt, want := range map[int]time.Duration{0: time.Second, 1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 5000: 10 * time.Second} {
		if got := b.Ceiling(attempt); got != want {
			t.Errorf("Ceiling(%d) = %v, want %v", attempt, got, want)
		}
	}
	d, waits := b.Initial, []time.Duration{}
	for range 5 {
		waits = append(waits, d)
		d = b.Next(d)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("Next from Initial = %v, want %v", waits, want)
		}
	}
	if got := b.Next(time.Duration(1 << 62)); got != b.Max {
		t.Fatalf("Next on overflow = %v, want Max", got)
	}
	for i := 1; i <= 10; i++ {
		if b.Next(b.Ceiling(i)) != b.Ceiling(i+1) {
			t.Fatalf("Ceiling and Next disagree at attempt %d", i)
		}
	}
}

func TestBackoffOrAndValidate(t *testing.T) {
	def := Backoff{Initial: time.Second, Max: 30 * time.Second, Multiplier: 2}
	if got := (Backoff{Max: time.Minute}).Or(def); got != (Backoff{Initial: time.Second, Max: time.Minute, Multiplier: 2}) {
		t.Fatalf("Or = %+v", got)
	}
	for name, b := range map[string]Backoff{
		"initial above max": {Initial: time.Minute, Max: time.Second, Multiplier: 2},
		"negative initial":  {Initial: -1, Max: time.Second, Multiplier: 2},
		"shrinking":         {Initial: time.Second, Max: time.Second, Multiplier: 0.5},
		"zero multiplier":   {Initial: time.Second, Max: time.Second},
	} {
		if err := b.Validate(); !errors.Is(err, ErrInvalidBackoff) {
			t.Errorf("%s: Validate = %v, want ErrInvalidBackoff", name, err)
		}
	}
	if err := def.Validate(); err != nil {
		t.Fatalf("Validate(defaults) = %v", err)
	}
}
