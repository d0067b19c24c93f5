package faults

import (
	"context"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Pseudo-statuses of the faults that leave no HTTP status, as reported to a
// writer's RecordFault.
const (
	StatusTimeout   = "timeout"
	StatusReset     = "reset"
	StatusLost      = "lost"
	StatusTruncated = "truncated"
)

// maxDrain bounds the request body a timeout reads (Brevo's import limit).
const maxDrain = 10 << 20

// Options tune an Injector. Zero fields take the defaults noted.
type Options struct {
	// Vendor shapes the 429 and 5xx answers. Default Plain.
	Vendor Vendor
	// MaxHold bounds how long a timeout holds a request whose client does
	// not give up first. Default 30s.
	MaxHold time.Duration
	// ThrottleWait is when an injected 429 says the rate-limit window resets.
	// Default 1s: a short throttle, as in a 429 storm, not a spent hourly
	// budget.
	ThrottleWait time.Duration
	// Now is the clock for the rate-limit headers. Default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Vendor.Throttle == nil || o.Vendor.Fail == nil {
		o.Vendor = Plain
	}
	if o.MaxHold <= 0 {
		o.MaxHold = 30 * time.Second
	}
	if o.ThrottleWait <= 0 {
		o.ThrottleWait = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Injector is the middleware Wrap returns. It is safe for concurrent use.
type Injector struct {
	next http.Handler
	spec Spec
	seed int64
	opts Options
	n    atomic.Uint64 // requests drawn so far

	release     chan struct{}
	releaseOnce sync.Once

	mu       sync.Mutex
	injected map[Kind]int
}

// Wrap returns next behind faults drawn from spec and seed (see the package
// comment for determinism). Paths under /_admin/ pass untouched and draw
// nothing. Wrap panics on a spec that fails Validate: Parse never returns
// one, so only a hand-built Spec can be wrong, and that is a programming
// error.
func Wrap(next http.Handler, spec Spec, seed int64, opts Options) *Injector {
	if err := spec.Validate(); err != nil {
		panic("faults.Wrap: " + err.Error())
	}
	return &Injector{
		next: next, spec: spec, seed: seed, opts: opts.withDefaults(),
		release:  make(chan struct{}),
		injected: map[Kind]int{},
	}
}

// Release ends every wait now and from now on: held timeouts drop their
// connections and latencies are skipped. Call it before shutting the server
// down, or Shutdown waits for held requests.
func (in *Injector) Release() {
	in.releaseOnce.Do(func() { close(in.release) })
}

// Injected returns how many requests got each kind of fault so far.
func (in *Injector) Injected() map[Kind]int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return maps.Clone(in.injected)
}

// ServeHTTP draws the request's fault and applies it.
func (in *Injector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_admin/") {
		in.next.ServeHTTP(w, r)
		return
	}
	d := in.spec.decide(in.seed, in.n.Add(1)-1)
	// The fault is decided already: a client leaving during the latency
	// changes nothing, as a real server would go on too.
	in.wait(r.Context(), d.latency)
	if d.kind != None {
		in.mu.Lock()
		in.injected[d.kind]++
		in.mu.Unlock()
	}
	switch d.kind {
	case TooManyRequests:
		in.opts.Vendor.Throttle(w, r, in.opts.Now(), in.opts.ThrottleWait)
	case ServerError:
		in.opts.Vendor.Fail(w, r, d.status)
	case Timeout:
		// The server notices a client hanging up only once the body is
		// read: read it, or every held POST would last MaxHold.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxDrain))
		in.wait(r.Context(), in.opts.MaxHold)
		recordFault(w, StatusTimeout)
		drop(w, false)
	case Reset:
		recordFault(w, StatusReset)
		drop(w, true)
	case Lost:
		in.next.ServeHTTP(newDiscardWriter(), r)
		recordFault(w, StatusLost)
		drop(w, true)
	case Truncate:
		truncate(w, r, in.next)
		recordFault(w, StatusTruncated)
	default:
		in.next.ServeHTTP(w, r)
	}
}

// wait sleeps for d, or less if ctx ends or the injector is released.
func (in *Injector) wait(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-in.release:
	}
}

// recordFault tells a counting writer the pseudo-status of the request.
func recordFault(w http.ResponseWriter, status string) {
	if rec, ok := w.(interface{ RecordFault(status string) }); ok {
		rec.RecordFault(status)
	}
}
