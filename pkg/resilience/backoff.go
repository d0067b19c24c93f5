package resilience

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// Jitter modes of a Policy.
const (
	// JitterFull waits a uniform random time in [0, ceiling): the fewest
	// collisions when many callers back off at once.
	JitterFull = "full"
	// JitterDecorrelated waits a uniform random time in [Initial, 3 x the
	// previous wait), capped at Max: grows like the exponential but never
	// returns to zero.
	JitterDecorrelated = "decorrelated"
)

// Policy is the one retry policy of calls no message stands behind:
// restcall's exponential Backoff (its Initial is the ceiling of the first
// wait, default 500ms; Max default 1m; Multiplier default 2) with jitter,
// bounded by attempts and by total time. Zero fields take the defaults.
type Policy struct {
	restcall.Backoff `yaml:",inline"`
	// Jitter is "full" (default) or "decorrelated".
	Jitter string `yaml:"jitter"`
	// MaxAttempts bounds the attempts, the first included. Default 5.
	MaxAttempts int `yaml:"max_attempts"`
	// MaxElapsed bounds the time from the first attempt to the start of
	// the last. Default 2m.
	MaxElapsed time.Duration `yaml:"max_elapsed"`

	// Retryable decides which errors are worth another attempt. Default
	// the package's Retryable.
	Retryable func(error) bool `yaml:"-"`
	// RetryAfter is how long the vendor asked to wait before retrying err
	// (zero: it did not say, Delay decides). Default restcall.RetryAfter,
	// the reset of a 429.
	RetryAfter func(err error, now time.Time) time.Duration `yaml:"-"`
	// OnRetry, when set, is told of every retry Do is about to wait for.
	OnRetry func(attempt int, wait time.Duration, err error) `yaml:"-"`
	// Clock times the waits (default restcall.SystemClock); Rand (uniform
	// in [0, 1)) is replaced in tests.
	Clock Clock          `yaml:"-"`
	Rand  func() float64 `yaml:"-"`
}

// defaultRetry is Policy's backoff for the fields it leaves zero.
var defaultRetry = restcall.Backoff{Initial: 500 * time.Millisecond, Max: time.Minute, Multiplier: 2}

// WithDefaults returns p with zero fields set.
func (p Policy) WithDefaults() Policy {
	p.Backoff = p.Backoff.Or(defaultRetry)
	if p.Jitter == "" {
		p.Jitter = JitterFull
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 5
	}
	if p.MaxElapsed == 0 {
		p.MaxElapsed = 2 * time.Minute
	}
	if p.Retryable == nil {
		p.Retryable = Retryable
	}
	if p.RetryAfter == nil {
		p.RetryAfter = restcall.RetryAfter
	}
	if p.Clock == nil {
		p.Clock = restcall.SystemClock{}
	}
	if p.Rand == nil {
		p.Rand = rand.Float64
	}
	return p
}

// Validate reports a policy that cannot work.
func (p Policy) Validate() error {
	p = p.WithDefaults()
	switch {
	case p.Backoff.Validate() != nil:
		return fmt.Errorf("%w: retry: %v", ErrInvalidConfig, p.Backoff.Validate())
	case p.Jitter != JitterFull && p.Jitter != JitterDecorrelated:
		return fmt.Errorf("%w: retry jitter %q: use %q or %q", ErrInvalidConfig, p.Jitter, JitterFull, JitterDecorrelated)
	case p.MaxAttempts < 1:
		return fmt.Errorf("%w: retry max_attempts %d: use 1 or more", ErrInvalidConfig, p.MaxAttempts)
	case p.MaxElapsed < 0:
		return fmt.Errorf("%w: retry max_elapsed %v is negative", ErrInvalidConfig, p.MaxElapsed)
	}
	return nil
}

// Delay is the wait after the attempt-th failed attempt (1-based), e.g. a
// message's delivery count for NakWithDelay. It needs no state: with
// decorrelated jitter the previous wait is taken as its ceiling.
func (p Policy) Delay(attempt int) time.Duration {
	p = p.WithDefaults()
	if p.Jitter == JitterDecorrelated {
		prev := p.Initial
		if attempt > 1 {
			prev = p.Ceiling(attempt - 1)
		}
		return p.decorrelated(prev)
	}
	return time.Duration(p.Rand() * float64(p.Ceiling(attempt)))
}

func (p Policy) decorrelated(prev time.Duration) time.Duration {
	hi := min(3*float64(prev), float64(p.Max))
	lo := float64(p.Initial)
	if hi <= lo {
		return time.Duration(min(lo, float64(p.Max)))
	}
	return time.Duration(lo + p.Rand()*(hi-lo))
}

// Do calls fn until it succeeds, fails with an error Retryable rejects, or
// the attempts or time run out; it waits between attempts as Delay says
// (decorrelated jitter carries the real previous wait) or until a 429's
// reset. fn's context is marked with the attempt number
// (restcall.WithAttempt) for the clients' Calls and spans.
//
// It is the one retry layer of calls no message stands behind (finding the
// segment, requesting an export, the loader's start-up checks): a
// message's retries are redeliveries, a wait's (WaitExport, WaitProcess)
// its next poll, and nothing under it retries (the Transport does not).
// Never wrap a wait or a message's call in it.
func (p Policy) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p = p.WithDefaults()
	start := p.Clock.Now()
	prev := p.Initial
	for attempt := 1; ; attempt++ {
		err := fn(restcall.WithAttempt(ctx, attempt))
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !p.Retryable(err) {
			return err
		}
		if attempt >= p.MaxAttempts {
			return fmt.Errorf("giving up after %d attempts: %w", attempt, err)
		}
		wait := p.RetryAfter(err, p.Clock.Now())
		if wait == 0 {
			if p.Jitter == JitterDecorrelated {
				prev = p.decorrelated(prev)
				wait = prev
			} else {
				wait = p.Delay(attempt)
			}
		}
		if elapsed := p.Clock.Now().Sub(start); elapsed+wait > p.MaxElapsed {
			return fmt.Errorf("giving up after %d attempts in %v (the next in %v would pass the %v retry budget): %w",
				attempt, elapsed.Round(time.Millisecond), wait.Round(time.Millisecond), p.MaxElapsed, err)
		}
		if p.OnRetry != nil {
			p.OnRetry(attempt, wait, err)
		}
		if serr := p.Clock.Sleep(ctx, wait); serr != nil {
			return fmt.Errorf("waiting %v to retry (%w) after: %w", wait.Round(time.Millisecond), serr, err)
		}
	}
}
