package restcall

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Backoff is the one exponential growth of a wait: Initial, then times
// Multiplier after each attempt, capped at Max. Polls space their calls
// with it as is; the retry policy (pkg/resilience) and the redelivery delay
// (pkg/pipeline) add their jitter on top. Zero fields take the defaults the
// user of the Backoff passes to Or.
type Backoff struct {
	// Initial is the first wait.
	Initial time.Duration `yaml:"initial"`
	// Max caps every wait.
	Max time.Duration `yaml:"max"`
	// Multiplier grows the wait after each attempt; >= 1.
	Multiplier float64 `yaml:"multiplier"`
}

// ErrInvalidBackoff is wrapped by Validate's errors.
var ErrInvalidBackoff = errors.New("invalid backoff")

// Or returns b with its zero fields taken from def.
func (b Backoff) Or(def Backoff) Backoff {
	if b.Initial == 0 {
		b.Initial = def.Initial
	}
	if b.Max == 0 {
		b.Max = def.Max
	}
	if b.Multiplier == 0 {
		b.Multiplier = def.Multiplier
	}
	return b
}

// Validate reports a backoff that cannot work: 0 <= Initial <= Max and
// Multiplier >= 1 are required (after Or).
func (b Backoff) Validate() error {
	switch {
	case b.Initial < 0 || b.Max < b.Initial:
		return fmt.Errorf("%w: initial %v and max %v: want 0 <= initial <= max", ErrInvalidBackoff, b.Initial, b.Max)
	case b.Multiplier < 1:
		return fmt.Errorf("%w: multiplier %g: use 1 or more", ErrInvalidBackoff, b.Multiplier)
	}
	return nil
}

// Ceiling is the wait after the attempt-th attempt (1-based): Initial x
// Multiplier^(attempt-1), capped at Max.
func (b Backoff) Ceiling(attempt int) time.Duration {
	d := float64(b.Initial) * math.Pow(b.Multiplier, float64(max(attempt, 1)-1))
	if d > float64(b.Max) || math.IsInf(d, 0) || math.IsNaN(d) {
		return b.Max
	}
	return time.Duration(d)
}

// Next is the wait that follows a wait of d: d x Multiplier, capped at Max.
func (b Backoff) Next(d time.Duration) time.Duration {
	n := time.Duration(float64(d) * b.Multiplier)
	if n > b.Max || n <= 0 {
		return b.Max
	}
	return n
}
