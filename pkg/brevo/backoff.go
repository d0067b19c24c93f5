package brevo

import (
	"fmt"
	"time"
)

// Backoff is the polling policy of WaitProcess. Zero fields take the
// defaults, which are sparing because GET /processes shares the 100 calls an
// hour budget of Brevo's "other endpoints".
type Backoff struct {
	// Initial is the wait before the first poll. Default 1s.
	Initial time.Duration `yaml:"initial"`
	// Max caps the wait between polls. Default 30s.
	Max time.Duration `yaml:"max"`
	// Multiplier grows the wait after each poll. Default 2; must be >= 1.
	Multiplier float64 `yaml:"multiplier"`
	// Timeout bounds the whole wait; zero leaves it to the context.
	Timeout time.Duration `yaml:"timeout"`
}

func (b Backoff) withDefaults() (Backoff, error) {
	if b.Initial == 0 {
		b.Initial = time.Second
	}
	if b.Max == 0 {
		b.Max = 30 * time.Second
	}
	if b.Multiplier == 0 {
		b.Multiplier = 2
	}
	if b.Initial < 0 || b.Max < b.Initial || b.Multiplier < 1 || b.Timeout < 0 {
		return b, fmt.Errorf("brevo: invalid backoff %+v: want 0 < Initial <= Max, Multiplier >= 1, Timeout >= 0", b)
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
