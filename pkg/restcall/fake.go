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

// ManualClock is a clock that moves only when waited on: Wait records the
// duration and advances Now by it instead of sleeping. It drives rate-limit
// and backoff waits in tests and simulations. Safe for concurrent use.
type ManualClock struct {
	mu     sync.Mutex
	now    time.Time
	waited []time.Duration
}

// NewManualClock returns a ManualClock reading start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Wait records d, advances the clock by it and returns ctx.Err(), as a
// wait bounded by ctx would.
func (c *ManualClock) Wait(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waited = append(c.waited, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

// Waited returns the durations Wait was asked for, in order.
func (c *ManualClock) Waited() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waited...)
}
