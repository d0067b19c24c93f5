package resilience

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// BreakerConfig tunes the circuit breakers. Zero fields take the defaults.
type BreakerConfig struct {
	// ConsecutiveFailures trips a closed breaker. Default 5: scattered
	// faults (a 5xx in twenty) do not trip it, an outage does at once.
	ConsecutiveFailures uint32 `yaml:"consecutive_failures"`
	// OpenTimeout is how long a breaker stays open before letting probes
	// through (half-open). Default 30s.
	OpenTimeout time.Duration `yaml:"open_timeout"`
	// HalfOpenRequests is how many probes a half-open breaker lets through;
	// that many successes close it. Default 1.
	HalfOpenRequests uint32 `yaml:"half_open_requests"`
	// Interval clears a closed breaker's counts periodically; 0 never does,
	// which is fine as only consecutive failures trip it.
	Interval time.Duration `yaml:"interval"`
}

// WithDefaults returns c with zero fields set.
func (c BreakerConfig) WithDefaults() BreakerConfig {
	if c.ConsecutiveFailures == 0 {
		c.ConsecutiveFailures = 5
	}
	if c.OpenTimeout == 0 {
		c.OpenTimeout = 30 * time.Second
	}
	if c.HalfOpenRequests == 0 {
		c.HalfOpenRequests = 1
	}
	return c
}

// Validate reports a config that cannot work.
func (c BreakerConfig) Validate() error {
	if c.OpenTimeout < 0 || c.Interval < 0 {
		return fmt.Errorf("%w: breaker open_timeout %v and interval %v must not be negative", ErrInvalidConfig, c.OpenTimeout, c.Interval)
	}
	return nil
}

// Breakers are the circuit breakers of one vendor, one per bucket. Safe for
// concurrent use.
type Breakers struct {
	vendor      string
	log         *slog.Logger
	breakers    map[string]*gobreaker.TwoStepCircuitBreaker[struct{}]
	mu          sync.Mutex
	transitions map[string]*atomic.Int64 // "bucket from->to"
}

// NewBreakers returns a closed breaker for each bucket of vendor.
func NewBreakers(vendor string, buckets []string, cfg BreakerConfig, opts ...Option) (*Breakers, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	o := buildOptions(opts)
	b := &Breakers{
		vendor: vendor, log: o.log,
		breakers:    make(map[string]*gobreaker.TwoStepCircuitBreaker[struct{}], len(buckets)),
		transitions: make(map[string]*atomic.Int64),
	}
	for _, name := range buckets {
		b.breakers[name] = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
			Name:          name,
			MaxRequests:   cfg.HalfOpenRequests,
			Interval:      cfg.Interval,
			Timeout:       cfg.OpenTimeout,
			ReadyToTrip:   func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= cfg.ConsecutiveFailures },
			OnStateChange: b.changed,
			IsSuccessful:  func(err error) bool { return !tripping(err) },
			IsExcluded:    func(err error) bool { return errors.Is(err, context.Canceled) },
		})
	}
	return b, nil
}

// changed runs under the breaker's lock: it must not call the breaker.
func (b *Breakers) changed(name string, from, to gobreaker.State) {
	key := name + " " + from.String() + "->" + to.String()
	b.mu.Lock()
	n, ok := b.transitions[key]
	if !ok {
		n = new(atomic.Int64)
		b.transitions[key] = n
	}
	b.mu.Unlock()
	n.Add(1)
	level := slog.LevelInfo
	if to == gobreaker.StateOpen {
		level = slog.LevelWarn
	}
	b.log.Log(context.Background(), level, "circuit breaker changed state",
		"vendor", b.vendor, "bucket", name, "from", from.String(), "to", to.String())
}

// tripping reports the failures that count against a breaker: 5xx
// answers, timeouts, resets and truncated bodies. A 4xx (429 included) is
// the caller's or the limiter's business and never trips one.
func tripping(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if s, ok := errors.AsType[*restcall.StatusError](err); ok {
		return s.Status >= 500
	}
	return Retryable(err)
}

// OpenError is returned for a request refused by an open (or saturated
// half-open) breaker. It wraps gobreaker.ErrOpenState or
// gobreaker.ErrTooManyRequests and is retryable.
type OpenError struct {
	Vendor, Bucket string
	Err            error
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("%s %s: circuit breaker refused the call (%v): the vendor has been failing; calls resume once a probe succeeds",
		e.Vendor, e.Bucket, e.Err)
}

func (e *OpenError) Unwrap() error { return e.Err }

// Retryable: the breaker lets calls through again once a probe succeeds,
// so every client's restcall.Retryable (brevo.Retryable, braze.Retryable)
// retries a refused call rather than giving it up.
func (e *OpenError) Retryable() bool { return true }

// allow asks bucket's breaker for a request; done reports its outcome.
// Unknown buckets are not guarded.
func (b *Breakers) allow(bucket string) (done func(error), err error) {
	cb, ok := b.breakers[bucket]
	if !ok {
		return func(error) {}, nil
	}
	done, err = cb.Allow()
	if err != nil {
		return nil, &OpenError{Vendor: b.vendor, Bucket: bucket, Err: err}
	}
	return done, nil
}

// Execute runs fn under bucket's breaker: a call that is not an HTTP
// request through the Transport (an export download on another host, a
// poll), so that its failures count too.
func (b *Breakers) Execute(bucket string, fn func() error) error {
	done, err := b.allow(bucket)
	if err != nil {
		return err
	}
	err = fn()
	done(err)
	return err
}

// Open reports whether any breaker of the vendor is open: wire it to
// pipeline.Config.Paused. It turns false once the open timeout passes and
// the breaker lets a probe through (half-open).
func (b *Breakers) Open() bool {
	for _, cb := range b.breakers {
		if cb.State() == gobreaker.StateOpen {
			return true
		}
	}
	return false
}

// IsOpen reports whether bucket's breaker is open.
func (b *Breakers) IsOpen(bucket string) bool {
	cb, ok := b.breakers[bucket]
	return ok && cb.State() == gobreaker.StateOpen
}

// States returns every breaker's state ("closed", "half-open", "open") by
// bucket.
func (b *Breakers) States() map[string]string {
	out := make(map[string]string, len(b.breakers))
	for name, cb := range b.breakers {
		out[name] = cb.State().String()
	}
	return out
}

// Transitions counts state changes by "bucket from->to", e.g.
// "contacts closed->open".
func (b *Breakers) Transitions() map[string]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]int64, len(b.transitions))
	for k, n := range b.transitions {
		out[k] = n.Load()
	}
	return out
}

// TransitionCount is the total number of state changes.
func (b *Breakers) TransitionCount() int64 {
	var n int64
	for _, v := range b.Transitions() {
		n += v
	}
	return n
}

// Buckets lists the guarded buckets, sorted.
func (b *Breakers) Buckets() []string {
	names := make([]string, 0, len(b.breakers))
	for name := range b.breakers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// statusOutcome is the breaker outcome of an answer: a *restcall.StatusError for
// 5xx, nil otherwise.
func statusOutcome(code int) error {
	if code >= 500 {
		return &restcall.StatusError{Status: code}
	}
	return nil
}
