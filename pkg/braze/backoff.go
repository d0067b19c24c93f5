package braze

import (
	"fmt"
	"time"
)

// Backoff is the polling policy of WaitExport. Zero fields take the defaults.
type Backoff struct {
	// Initial is the wait after the first not-ready answer. Default 2s.
	Initial time.Duration `yaml:"initial"`
	// Max caps the wait between polls. Default 1m.
	Max time.Duration `yaml:"max"`
	// Multiplier grows the wait after each poll. Default 2; must be >= 1.
	Multiplier float64 `yaml:"multiplier"`
	// Timeout bounds the whole wait; zero leaves it to the context. Large
	// segments take an hour or more to export.
	Timeout time.Duration `yaml:"timeout"`
}

func (b Backoff) withDefaults() (Backoff, error) {
	if b.Initial == 0 {
		b.Initial = 2 * time.Second
	}
	if b.Max == 0 {
		b.Max = time.Minute
	}
	if b.Multiplier == 0 {
		b.Multiplier = 2
	}
	if b.Initial < 0 || b.Max < b.Initial || b.Multiplier < 1 || b.Timeout < 0 {
		return b, fmt.Errorf("braze: invalid backoff %+v: want 0 < Initial <= Max, Multiplier >= 1, Timeout >= 0", b)
	}
	return b, nil
}

func (b Backoff) next(d time.Duration) time.Duration {
	n := time.Duration(float64(d) * b.Multiplier)
	if n > b.Max || n <= 0 {
		return b.Max
	}
	return n
}
