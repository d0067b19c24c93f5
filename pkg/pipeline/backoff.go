package pipeline

import (
	"fmt"
	"math"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// Backoff is the redelivery delay of a message that failed with a retryable
// error: restcall's exponential Backoff after the message's deliveries
// (Initial * Multiplier^(deliveries-1), capped at Max; defaults 1s, 5m and
// 2), spread by +-Jitter (a fraction) so failed messages do not return in
// lockstep.
type Backoff struct {
	restcall.Backoff `yaml:",inline"`
	Jitter           float64 `yaml:"jitter"` // default 0.2 (0 means the default); 0 <= Jitter < 1
}

// defaultRedelivery is Backoff's growth for the fields it leaves zero.
var defaultRedelivery = restcall.Backoff{Initial: time.Second, Max: 5 * time.Minute, Multiplier: 2}

func (b Backoff) withDefaults() Backoff {
	b.Backoff = b.Backoff.Or(defaultRedelivery)
	if b.Jitter == 0 {
		b.Jitter = 0.2
	}
	return b
}

func (b Backoff) validate() error {
	if err := b.Backoff.Or(defaultRedelivery).Validate(); err != nil {
		return fmt.Errorf("backoff: %w", err)
	}
	if b.Jitter < 0 || b.Jitter >= 1 {
		return fmt.Errorf("backoff: jitter %g must be in [0, 1)", b.Jitter)
	}
	return nil
}

// delay is the backoff before the next delivery of a message delivered n
// times; rnd returns a number in [0, 1).
func (b Backoff) delay(n uint64, rnd func() float64) time.Duration {
	d := float64(b.Ceiling(int(min(n, math.MaxInt32))))
	d *= 1 + b.Jitter*(2*rnd()-1)
	return min(time.Duration(d), b.Max)
}
