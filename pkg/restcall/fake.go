package restcall

import (
	"context"
	"sync"
	"time"
)

// Recorder collects the values an observer is handed, such as the Calls a
// client reports. Its Observe method is the observer. Safe for concurrent
// use; the zero value is ready.
type Recorder[C any] struct {
	mu    sync.Mutex
	calls []C
}

// Observe records c.
func (r *Recorder[C]) Observe(c C) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

// All returns a copy of what was recorded, in order.
func (r *Recorder[C]) All() []C {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]C(nil), r.calls...)
}

// ManualClock is a Clock that moves only when slept on or advanced: Sleep
// records the duration and advances Now by it instead of waiting. It drives
// rate-limit, backoff and poll waits in tests and simulations. Safe for
// concurrent use.
type ManualClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

var _ Clock = (*ManualClock)(nil)

// NewManualClock returns a ManualClock reading start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep returns ctx.Err() at once when ctx has ended, as a real sleep
// would; otherwise it records d and advances the clock by it (by nothing
// when d is not positive).
func (c *ManualClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	if d > 0 {
		c.now = c.now.Add(d)
	}
	return nil
}

// Advance moves the clock by d without recording a sleep: time passing
// while something else happens.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Slept returns the durations Sleep was asked for, in order.
func (c *ManualClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}
