package pipeline

import (
	"fmt"
	"math"
	"time"
)

// Backoff is the redelivery delay of a message that failed with a retryable
// error: Initial * Multiplier^(deliveries-1), capped at Max, spread by
// +-Jitter (a fraction) so failed messages do not return in lockstep.
type Backoff struct {
	Initial    time.Duration `yaml:"initial"`    // default 1s
	Max        time.Duration `yaml:"max"`        // default 5m
	Multiplier float64       `yaml:"multiplier"` // default 2
	Jitter     float64       `yaml:"jitter"`     // default 0.2 (0 means the default); 0 <= Jitter < 1
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = time.Second
	}
	if b.Max <= 0 {
		b.Max = 5 * time.Minute
	}
	if b.Multiplier <= 0 {
		b.Multiplier = 2
	}
	if b.Jitter == 0 {
		b.Jitter = 0.2
	}
	return b
}

func (b Backoff) validate() error {
	switch {
	case b.Initial < 0 || b.Max < 0:
		return fmt.Errorf("backoff: initial %s and max %s must not be negative", b.Initial, b.Max)
	case b.Max > 0 && b.Initial > b.Max:
		return fmt.Errorf("backoff: initial %s is above max %s", b.Initial, b.Max)
	case b.Multiplier != 0 && b.Multiplier < 1:
		return fmt.Errorf("backoff: multiplier %g must be at least 1", b.Multiplier)
	case b.Jitter < 0 || b.Jitter >= 1:
		return fmt.Errorf("backoff: jitter %g must be in [0, 1)", b.Jitter)
	}
	return nil
}

// delay is the backoff before the next delivery of a message delivered n
// times; rnd returns a number in [0, 1).
func (b Backoff) delay(n uint64, rnd func() float64) time.Duration {
	exp := float64(max(n, 1) - 1)
	d := float64(b.Initial) * math.Pow(b.Multiplier, exp)
	if d > float64(b.Max) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(b.Max)
	}
	d *= 1 + b.Jitter*(2*rnd()-1)
	return min(time.Duration(d), b.Max)
}
