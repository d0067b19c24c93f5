package resilience

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// quotaPeriod is the shortest window counted as a quota aligned on the
// clock rather than paced: the vendors reset their hourly pools on the
// clock hour, and pacing a 100/hour pool at one call per 36 s would make a
// handful of polls take minutes.
const quotaPeriod = time.Hour

// minSpreadHorizon is the shortest time-to-reset over which the remaining
// budget is spread. Resets come in whole seconds, too coarse for windows of
// a few seconds: those are left to pacing.
const minSpreadHorizon = 5 * time.Second

// fallbackBlock is how long a 429 without a usable reset header blocks its
// bucket.
const fallbackBlock = time.Second

// maxResetHorizon bounds how far away a rate-limit reset is believed: the
// longest window of either vendor (Braze's hourly pool) and a minute.
const maxResetHorizon = time.Hour + time.Minute

// Limiter holds the rate-limit buckets of one vendor. Safe for concurrent
// use.
type Limiter struct {
	vendor  vendor
	clock   Clock
	log     *slog.Logger
	n       atomic.Int64 // replicas sharing each budget; see SetReplicas
	below   float64
	buckets map[string]*bucket
	limits  Limits
	specs   []bucketSpec
}

// Option configures a Limiter, Breakers or Guard.
type Option func(*options)

type options struct {
	clock Clock
	log   *slog.Logger
	rand  func() float64
}

// WithClock replaces the real clock, for tests.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithLogger sets where breaker transitions and 429 blocks are logged.
// Default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

func buildOptions(opts []Option) options {
	o := options{clock: restcall.SystemClock{}, log: slog.Default(), rand: rand.Float64}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// NewLimiter returns the limiter of vendor (VendorBraze or VendorBrevo)
// under limits.
func NewLimiter(vendorName string, limits Limits, opts ...Option) (*Limiter, error) {
	v, err := vendorOf(vendorName)
	if err != nil {
		return nil, err
	}
	if err := limits.Validate(); err != nil {
		return nil, err
	}
	limits = limits.WithDefaults()
	o := buildOptions(opts)
	l := &Limiter{
		vendor: v, clock: o.clock, log: o.log, below: limits.SpreadBelow,
		buckets: make(map[string]*bucket), limits: limits, specs: limits.specs()[v.name],
	}
	l.n.Store(int64(limits.Replicas))
	now := o.clock.Now()
	for _, spec := range l.specs {
		l.buckets[spec.name] = newBucket(spec, limits, now, o.rand)
	}
	return l, nil
}

// Replicas is how many processes the limiter assumes share each budget.
func (l *Limiter) Replicas() int { return int(l.n.Load()) }

// SetReplicas changes how many processes share each budget while the
// limiter runs (replicas that learn of one another, see
// bootstrap.Presence): every window's share and every pace is recomputed;
// what was used of the current windows stays counted. n < 1 counts as 1.
func (l *Limiter) SetReplicas(n int) {
	n = max(n, 1)
	if int(l.n.Swap(int64(n))) == n {
		return
	}
	limits := l.limits
	limits.Replicas = n
	now := l.clock.Now()
	for _, spec := range l.specs {
		b, ok := l.buckets[spec.name]
		if !ok {
			continue
		}
		fresh := newBucket(spec, limits, now, b.rand)
		b.mu.Lock()
		for i := range b.quotas {
			if i < len(fresh.quotas) {
				b.quotas[i].max = fresh.quotas[i].max
			}
		}
		if b.pace != nil && fresh.pace != nil {
			b.pace.SetLimitAt(now, fresh.pace.Limit())
		}
		b.mu.Unlock()
	}
	l.log.Info("vendor budget shared by a new number of replicas", "vendor", l.vendor.name, "replicas", n)
}

// Bucket names the bucket a request falls in; path is the API path without
// the base URL's path ("/contacts/import", "/users/track").
func (l *Limiter) Bucket(method, path string) string { return l.vendor.bucketOf(method, path) }

// Buckets lists the bucket names, sorted.
func (l *Limiter) Buckets() []string {
	names := make([]string, 0, len(l.buckets))
	for name := range l.buckets {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Wait blocks until a request on bucket may be sent, or ctx ends. An
// unknown bucket is not limited.
func (l *Limiter) Wait(ctx context.Context, bucketName string) error {
	b, ok := l.buckets[bucketName]
	if !ok {
		return ctx.Err()
	}
	for {
		d, reserved := b.take(l.clock.Now())
		if err := l.sleep(ctx, bucketName, d); err != nil {
			return err
		}
		if reserved {
			break
		}
	}
	// A 429 seen while this request waited for its turn blocks it too.
	for {
		d := b.blocked(l.clock.Now())
		if d <= 0 {
			return nil
		}
		if err := l.sleep(ctx, bucketName, d); err != nil {
			return err
		}
	}
}

func (l *Limiter) sleep(ctx context.Context, bucketName string, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if b, ok := l.buckets[bucketName]; ok {
		b.waits.Add(1)
		b.waited.Add(int64(d))
	}
	// An event on the vendor call's span, when the call is traced.
	trace.SpanFromContext(ctx).AddEvent("rate_limit_wait", trace.WithAttributes(
		attribute.String("tajo.bucket", bucketName), attribute.Int64("tajo.wait_ms", d.Milliseconds())))
	if err := l.clock.Sleep(ctx, d); err != nil {
		return fmt.Errorf("waiting %v for the %s %s rate limit: %w", d.Round(time.Millisecond), l.vendor.name, bucketName, err)
	}
	return nil
}

// Observe adapts bucket to a response: its rate-limit headers and, for a
// 429, a block until the announced reset.
func (l *Limiter) Observe(bucketName string, status int, h http.Header) {
	b, ok := l.buckets[bucketName]
	if !ok {
		return
	}
	now := l.clock.Now()
	o, ok := l.vendor.headers.Read(h, now)
	if until := b.observe(now, status, o, ok, int(l.n.Load()), l.below); !until.IsZero() {
		l.log.Warn("rate limited: bucket blocked until the reset",
			"vendor", l.vendor.name, "bucket", bucketName, "until", until, "wait", until.Sub(now).Round(time.Millisecond))
	}
}

// BucketState is what a bucket knows, for status displays.
type BucketState struct {
	// Limit, Remaining and Reset are from the last rate-limit headers; Limit
	// is 0 before any.
	Limit, Remaining int
	Reset            time.Time
	// BlockedUntil is set while a 429 holds the bucket.
	BlockedUntil time.Time
	// Throttled counts 429 answers.
	Throttled int64
	// Rate is the current pace in requests per second (the tighter of the
	// configured pace and the spread of the remaining budget); 0 when
	// unpaced.
	Rate float64
}

// Snapshot returns every bucket's state.
func (l *Limiter) Snapshot() map[string]BucketState {
	now := l.clock.Now()
	out := make(map[string]BucketState, len(l.buckets))
	for name, b := range l.buckets {
		out[name] = b.state(now)
	}
	return out
}

// Throttled is the number of 429 answers seen across buckets.
func (l *Limiter) Throttled() int64 {
	var n int64
	for _, b := range l.buckets {
		b.mu.Lock()
		n += b.throttled
		b.mu.Unlock()
	}
	return n
}

// Waits is how often calls on each bucket waited for the limiter, and for
// how long in all.
func (l *Limiter) Waits() map[string]WaitStats {
	out := make(map[string]WaitStats, len(l.buckets))
	for name, b := range l.buckets {
		out[name] = WaitStats{Count: b.waits.Load(), Total: time.Duration(b.waited.Load())}
	}
	return out
}

// WaitStats counts a bucket's waits.
type WaitStats struct {
	Count int64
	Total time.Duration
}

// bucket is one rate-limit pool.
type bucket struct {
	waits  atomic.Int64 // calls that waited
	waited atomic.Int64 // nanoseconds waited in all
	mu     sync.Mutex
	rand   func() float64
	pace   *rate.Limiter // nil when every window is an hourly quota
	spread *rate.Limiter // rate.Inf unless the headers said the budget is low
	// spreadUntil ends the spread: the reset of the window it was for.
	spreadUntil  time.Time
	quotas       []quota
	blockedUntil time.Time
	last         restcall.RateLimit
	throttled    int64
}

// quota counts requests in a window aligned on the clock.
type quota struct {
	max    int
	period time.Duration
	start  time.Time
	used   int
}

func newBucket(spec bucketSpec, limits Limits, now time.Time, rnd func() float64) *bucket {
	b := &bucket{rand: rnd, spread: rate.NewLimiter(rate.Inf, 1)}
	var pace rate.Limit
	for _, w := range spec.windows {
		// Whole requests per replica per window, rounded down, so that N
		// replicas together never exceed the window.
		share := max(w.max/limits.Replicas, 1)
		if w.period >= quotaPeriod {
			b.quotas = append(b.quotas, quota{max: share, period: w.period, start: now.Truncate(w.period)})
			continue
		}
		r := rate.Limit(float64(share) * limits.Headroom / w.period.Seconds())
		if pace == 0 || r < pace {
			pace = r
		}
	}
	if pace > 0 {
		b.pace = rate.NewLimiter(pace, 1)
	}
	return b
}

// take reserves the next request at now and returns how long to wait
// before sending it (reserved), or, while the bucket is blocked or a quota
// exhausted, how long to wait before asking again (not reserved).
func (b *bucket) take(now time.Time) (wait time.Duration, reserved bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Before(b.blockedUntil) {
		return b.blockedUntil.Sub(now), false
	}
	if !b.spreadUntil.IsZero() && !now.Before(b.spreadUntil) {
		b.spread.SetLimitAt(now, rate.Inf)
		b.spreadUntil = time.Time{}
	}
	for i := range b.quotas {
		q := &b.quotas[i]
		if start := now.Truncate(q.period); !start.Equal(q.start) {
			q.start, q.used = start, 0
		}
		if q.used >= q.max {
			return q.start.Add(q.period).Sub(now), false
		}
	}
	for i := range b.quotas {
		b.quotas[i].used++
	}
	var d time.Duration
	if b.pace != nil {
		d = b.pace.ReserveN(now, 1).DelayFrom(now)
	}
	return max(d, b.spread.ReserveN(now, 1).DelayFrom(now)), true
}

// blocked is how long a 429 still holds the bucket.
func (b *bucket) blocked(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.blockedUntil.Sub(now)
}

// observe applies one response and returns the time a 429 blocks the
// bucket until (zero when it did not block).
func (b *bucket) observe(now time.Time, status int, o restcall.RateLimit, haveHeaders bool, replicas int, below float64) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if haveHeaders && o.Reset.Sub(now) > maxResetHorizon {
		// No window of either vendor is longer than an hour: a reset
		// further away is a garbled or hostile header, and must not stop
		// the bucket for days.
		o.Reset = now.Add(maxResetHorizon)
	}
	if haveHeaders {
		b.last = o
	}
	if status == http.StatusTooManyRequests {
		b.throttled++
		until := now.Add(fallbackBlock)
		// Only a spent budget blocks until the reset. A 429 while budget
		// remains is no rate limit (Braze answers 429 to a second export
		// of a segment while one runs): blocking the bucket until the hour
		// would stall every other call of the pool.
		if haveHeaders && o.Reset.After(now) && o.Remaining <= 0 {
			until = o.Reset
		}
		// Jitter after the reset so replicas blocked by the same window do
		// not all resume in the same instant: at most a tenth of the wait,
		// and a second.
		wait := until.Sub(now)
		until = until.Add(time.Duration(b.rand() * float64(min(wait/10, time.Second))))
		if until.After(b.blockedUntil) {
			b.blockedUntil = until
		}
		return b.blockedUntil
	}
	if !haveHeaders || o.Limit <= 0 || o.Reset.IsZero() {
		return time.Time{}
	}
	left := o.Reset.Sub(now)
	if left < minSpreadHorizon || float64(o.Remaining) >= below*float64(o.Limit) {
		return time.Time{}
	}
	// This replica's share of what remains, spread over the time left.
	share := float64(o.Remaining) / float64(replicas)
	if share < 1 {
		// Nothing left for us in this window: wait for the reset rather
		// than earn a 429.
		if o.Reset.After(b.blockedUntil) {
			b.blockedUntil = o.Reset
		}
		return time.Time{}
	}
	b.spread.SetLimitAt(now, rate.Limit(share/left.Seconds()))
	b.spreadUntil = o.Reset
	return time.Time{}
}

func (b *bucket) state(now time.Time) BucketState {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := BucketState{Limit: b.last.Limit, Remaining: b.last.Remaining, Reset: b.last.Reset, Throttled: b.throttled}
	if now.Before(b.blockedUntil) {
		s.BlockedUntil = b.blockedUntil
	}
	if b.pace != nil {
		s.Rate = float64(b.pace.Limit())
	}
	if sp := b.spread.Limit(); sp != rate.Inf && (s.Rate == 0 || float64(sp) < s.Rate) {
		s.Rate = float64(sp)
	}
	return s
}
