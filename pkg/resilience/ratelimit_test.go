package resilience

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

func TestLimiterHonoursRateAndBurst(t *testing.T) {
	tests := []struct {
		name   string
		vendor string
		limits Limits
		bucket string
		max    int // documented requests per period
		period time.Duration
		n      int
	}{
		{"brevo contacts general", VendorBrevo, Limits{}, "contacts", 10, time.Second, 200},
		{"brevo contacts enterprise", VendorBrevo, Limits{Brevo: BrevoLimits{Plan: PlanEnterprise}}, "contacts", 60, time.Second, 600},
		{"brevo events pro", VendorBrevo, Limits{Brevo: BrevoLimits{Plan: PlanPro}}, "events", 20, time.Second, 200},
		{"brevo products", VendorBrevo, Limits{}, "products", 2, time.Second, 40},
		{"braze users.track", VendorBraze, Limits{}, "users.track", 3000, 3 * time.Second, 9000},
		{"braze export ids", VendorBraze, Limits{}, "users.export.ids", 250, time.Minute, 600},
		{"braze export ids, old account", VendorBraze, Limits{Braze: BrazeLimits{ExportIDsPerMinute: 2500}}, "users.export.ids", 2500, time.Minute, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := restcall.NewManualClock(t0)
			lim := newTestLimiter(t, tt.vendor, tt.limits, c)
			times := sendTimes(t, lim, c, tt.bucket, tt.n)
			if got := maxInWindow(times, tt.period); got > tt.max {
				t.Errorf("%d requests within %v, limit %d", got, tt.period, tt.max)
			}
			elapsed := times[len(times)-1].Sub(times[0])
			perSec := float64(tt.n-1) / elapsed.Seconds()
			allowed := float64(tt.max) / tt.period.Seconds()
			if perSec < 0.9*allowed || perSec > allowed {
				t.Errorf("paced at %.2f req/s, want within [90%%, 100%%] of %.2f", perSec, allowed)
			}
		})
	}
}

func TestLimiterBurstIsOne(t *testing.T) {
	c := restcall.NewManualClock(t0)
	lim := newTestLimiter(t, VendorBrevo, Limits{}, c)
	sendTimes(t, lim, c, "contacts", 3)
	c.Advance(time.Minute) // idle: a token bucket with a larger burst would save up
	times := sendTimes(t, lim, c, "contacts", 3)
	if gap := times[1].Sub(times[0]); gap < 100*time.Millisecond {
		t.Errorf("second request after an idle minute went %v after the first: the bucket saved up a burst", gap)
	}
}

func TestLimiterSpreadsRemainingBudget(t *testing.T) {
	tests := []struct {
		name     string
		vendor   string
		limits   Limits
		bucket   string
		header   func(now time.Time) http.Header
		wantRate float64 // requests per second after the response; 0: unchanged
		blocked  time.Duration
	}{
		{
			name: "plenty left: no slowdown", vendor: VendorBraze, bucket: "default",
			header: func(now time.Time) http.Header { return brazeHeader(250000, 200000, now.Add(1000*time.Second)) },
		},
		{
			name: "braze pool low: spread over the time left", vendor: VendorBraze, bucket: "default",
			header:   func(now time.Time) http.Header { return brazeHeader(250000, 1000, now.Add(1000*time.Second)) },
			wantRate: 1,
		},
		{
			name: "two replicas spread half each", vendor: VendorBraze, bucket: "default", limits: Limits{Replicas: 2},
			header:   func(now time.Time) http.Header { return brazeHeader(250000, 1000, now.Add(1000*time.Second)) },
			wantRate: 0.5,
		},
		{
			name: "brevo hourly contacts low", vendor: VendorBrevo, bucket: "contacts",
			header:   func(time.Time) http.Header { return brevoHeader(36000, 600, 1200) },
			wantRate: 0.5,
		},
		{
			name: "nothing left: wait for the reset", vendor: VendorBrevo, bucket: "other",
			header:  func(time.Time) http.Header { return brevoHeader(100, 0, 1800) },
			blocked: 1800 * time.Second,
		},
		{
			name: "short window (whole-second resets): left to pacing", vendor: VendorBrevo, bucket: "contacts",
			header: func(time.Time) http.Header { return brevoHeader(10, 0, 1) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := restcall.NewManualClock(t0.Add(-30 * time.Minute))
			lim := newTestLimiter(t, tt.vendor, tt.limits, c)
			before := lim.Snapshot()[tt.bucket].Rate
			lim.Observe(tt.bucket, http.StatusOK, tt.header(c.Now()))
			st := lim.Snapshot()[tt.bucket]
			switch {
			case tt.wantRate > 0 && (st.Rate < tt.wantRate*0.99 || st.Rate > tt.wantRate*1.01):
				t.Errorf("rate %.3f req/s after the response, want %.3f", st.Rate, tt.wantRate)
			case tt.wantRate == 0 && tt.blocked == 0 && st.Rate != before:
				t.Errorf("rate changed from %.3f to %.3f, want unchanged", before, st.Rate)
			}
			start := c.Now()
			times := sendTimes(t, lim, c, tt.bucket, 4)
			took := times[3].Sub(start)
			switch {
			case tt.blocked > 0:
				if first := times[0].Sub(start); first < tt.blocked {
					t.Errorf("first request after %v, want a wait of %v for the reset", first, tt.blocked)
				}
			case tt.wantRate > 0:
				if want := time.Duration(3 / tt.wantRate * float64(time.Second)); took < want*99/100 {
					t.Errorf("4 requests took %v, want about %v at %.2f req/s", took, want, tt.wantRate)
				}
			default:
				if took > time.Second {
					t.Errorf("4 requests took %v, want no slowdown", took)
				}
			}
		})
	}
}

func TestLimiterSpreadEndsAtReset(t *testing.T) {
	c := restcall.NewManualClock(t0.Add(-30 * time.Minute))
	lim := newTestLimiter(t, VendorBraze, Limits{}, c)
	lim.Observe("default", http.StatusOK, brazeHeader(250000, 10, c.Now().Add(20*time.Second)))
	sendTimes(t, lim, c, "default", 2) // paced at 0.5 req/s
	c.Advance(30 * time.Second)        // past the reset
	start := c.Now()
	times := sendTimes(t, lim, c, "default", 50)
	if took := times[49].Sub(start); took > 0 {
		t.Errorf("50 requests after the reset took %v, want no spreading once the window reset", took)
	}
}

func Test429BlocksUntilResetThenResumes(t *testing.T) {
	tests := []struct {
		name   string
		vendor string
		bucket string
		header func(now time.Time) http.Header
		wait   time.Duration
	}{
		{"brevo: reset in seconds", VendorBrevo, "contacts", func(time.Time) http.Header { return brevoHeader(10, 0, 3) }, 3 * time.Second},
		{"braze: reset as epoch seconds", VendorBraze, "default", func(now time.Time) http.Header { return brazeHeader(250000, 0, now.Add(90*time.Second)) }, 90 * time.Second},
		{"no headers: short fallback", VendorBrevo, "contacts", func(time.Time) http.Header { return http.Header{} }, fallbackBlock},
		// Braze's 429 to a second export of a segment comes with the
		// pool's headers, budget left: not a spent budget, a short block.
		{"braze: budget left, no block until the hour", VendorBraze, "default", func(now time.Time) http.Header { return brazeHeader(250000, 249000, now.Add(30*time.Minute)) }, fallbackBlock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := restcall.NewManualClock(t0.Add(-30 * time.Minute))
			lim := newTestLimiter(t, tt.vendor, Limits{}, c)
			start := c.Now()
			lim.Observe(tt.bucket, http.StatusTooManyRequests, tt.header(start))
			if got := lim.Snapshot()[tt.bucket].BlockedUntil; got.Before(start.Add(tt.wait)) {
				t.Errorf("BlockedUntil %v, want at least the reset %v", got, start.Add(tt.wait))
			}
			times := sendTimes(t, lim, c, tt.bucket, 3)
			waited := times[0].Sub(start)
			if waited < tt.wait || waited > tt.wait+tt.wait/10+time.Millisecond {
				t.Errorf("first request after the 429 went after %v, want the reset %v plus at most 10%% jitter", waited, tt.wait)
			}
			if gap := times[2].Sub(times[0]); gap > time.Second {
				t.Errorf("after the reset 3 requests took %v: the bucket did not resume its pace", gap)
			}
			if n := lim.Throttled(); n != 1 {
				t.Errorf("Throttled() = %d, want 1", n)
			}
		})
	}
}

func Test429SeenWhileQueuedBlocksTheQueuedRequest(t *testing.T) {
	c := restcall.NewManualClock(t0)
	lim := newTestLimiter(t, VendorBrevo, Limits{}, c)
	sendTimes(t, lim, c, "contacts", 1)
	// The next request is reserved 1/9.5 s ahead; a 429 arrives meanwhile.
	b := lim.buckets["contacts"]
	d, reserved := b.take(c.Now())
	if !reserved || d <= 0 {
		t.Fatalf("take = %v, %v; want a reservation in the future", d, reserved)
	}
	lim.Observe("contacts", http.StatusTooManyRequests, brevoHeader(10, 0, 2))
	if got := b.blocked(c.Now().Add(d)); got <= 0 {
		t.Errorf("after its turn the request is not held by the 429 (blocked %v)", got)
	}
}

func TestHourlyPoolResetsOnTheClockHour(t *testing.T) {
	tests := []struct {
		name   string
		vendor string
		limits Limits
		bucket string
		quota  int
	}{
		{"brevo other endpoints", VendorBrevo, Limits{Brevo: BrevoLimits{OtherPerHour: 5}}, "other", 5},
		{"braze default pool", VendorBraze, Limits{Braze: BrazeLimits{DefaultPerHour: 7}}, "default", 7},
		{"braze event lists", VendorBraze, Limits{Braze: BrazeLimits{EventListsPerHour: 3}}, "events.list", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := restcall.NewManualClock(t0) // 10:59:00
			lim := newTestLimiter(t, tt.vendor, tt.limits, c)
			times := sendTimes(t, lim, c, tt.bucket, 2*tt.quota+1)
			hour := t0.Truncate(time.Hour).Add(time.Hour) // 11:00:00
			for i, at := range times {
				switch {
				case i < tt.quota && !at.Equal(t0):
					t.Errorf("request %d went at %v, want at once (%v)", i, at, t0)
				case i >= tt.quota && i < 2*tt.quota && !at.Equal(hour):
					t.Errorf("request %d went at %v, want on the clock hour %v", i, at, hour)
				case i == 2*tt.quota && !at.Equal(hour.Add(time.Hour)):
					t.Errorf("request %d went at %v, want on the next clock hour", i, at)
				}
			}
		})
	}
}

func TestReplicasSplitEveryLimit(t *testing.T) {
	tests := []struct {
		name     string
		replicas int
		bucket   string
		period   time.Duration
		perEach  int // whole requests per window per replica
		n        int
	}{
		{"contacts 10/s over 2", 2, "contacts", time.Second, 5, 60},
		{"contacts 10/s over 3", 3, "contacts", time.Second, 3, 60},
		{"contacts 10/s over 20 (at least one each)", 20, "contacts", time.Second, 1, 10},
		{"other 100/h over 4", 4, "other", time.Hour, 25, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := restcall.NewManualClock(t0.Add(time.Minute)) // just after a clock hour
			lim := newTestLimiter(t, VendorBrevo, Limits{Replicas: tt.replicas}, c)
			times := sendTimes(t, lim, c, tt.bucket, tt.n)
			if got := maxInWindow(times, tt.period); got > tt.perEach {
				t.Errorf("one replica sent %d within %v, want at most %d so that %d replicas stay within the limit",
					got, tt.period, tt.perEach, tt.replicas)
			}
		})
	}
}

func TestLimiterWaitHonoursContext(t *testing.T) {
	c := restcall.NewManualClock(t0)
	lim := newTestLimiter(t, VendorBrevo, Limits{}, c)
	lim.Observe("contacts", http.StatusTooManyRequests, brevoHeader(10, 0, 60))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := lim.Wait(ctx, "contacts"); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a blocked bucket with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestBucketOf(t *testing.T) {
	tests := []struct {
		vendor, method, path, want string
	}{
		{VendorBrevo, "POST", "/contacts/import", "contacts"},
		{VendorBrevo, "PUT", "/contacts/a%40b.c", "contacts"},
		{VendorBrevo, "GET", "/contacts", "contacts"},
		{VendorBrevo, "POST", "/events", "events"},
		{VendorBrevo, "POST", "/products/batch", "products"},
		{VendorBrevo, "GET", "/processes/12", "other"},
		{VendorBrevo, "GET", "/account", "other"},
		{VendorBraze, "POST", "/users/track", "users.track"},
		{VendorBraze, "POST", "/users/export/ids", "users.export.ids"},
		{VendorBraze, "POST", "/users/export/segment", "default"},
		{VendorBraze, "POST", "/users/alias/new", "users.identity"},
		{VendorBraze, "POST", "/users/merge", "users.identity"},
		{VendorBraze, "GET", "/campaigns/data_series", "campaigns.data_series"},
		{VendorBraze, "POST", "/v2/subscription/status/set", "subscription.status"},
		{VendorBraze, "GET", "/events/list", "events.list"},
		{VendorBraze, "GET", "/purchases/product_list", "events.list"},
		{VendorBraze, "GET", "/catalogs/shoes/items", "catalogs.sync"},
		{VendorBraze, "PATCH", "/catalogs/shoes/items/sku-1", "catalogs.sync"},
		{VendorBraze, "POST", "/catalogs/shoes/items", "default"},
		{VendorBraze, "GET", "/segments/list", "default"},
	}
	for _, tt := range tests {
		c := restcall.NewManualClock(t0)
		lim := newTestLimiter(t, tt.vendor, Limits{}, c)
		if got := lim.Bucket(tt.method, tt.path); got != tt.want {
			t.Errorf("%s %s %s: bucket %q, want %q", tt.vendor, tt.method, tt.path, got, tt.want)
		}
	}
}

func TestLimitsValidate(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
		ok     bool
	}{
		{"defaults", Limits{}, true},
		{"pro plan", Limits{Brevo: BrevoLimits{Plan: PlanPro}}, true},
		{"unknown plan", Limits{Brevo: BrevoLimits{Plan: "gold"}}, false},
		{"negative replicas", Limits{Replicas: -1}, false},
		{"headroom above 1", Limits{Headroom: 1.5}, false},
		{"negative limit", Limits{Braze: BrazeLimits{DefaultPerHour: -5}}, false},
	}
	for _, tt := range tests {
		err := tt.limits.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v does not wrap ErrInvalidConfig", tt.name, err)
		}
	}
	l := Limits{Brevo: BrevoLimits{Plan: PlanEnterprise}}.WithDefaults()
	if l.Brevo.ContactsPerSecond != 60 || l.Brevo.EventsPerSecond != 60 {
		t.Errorf("enterprise plan: contacts %d/s events %d/s, want 60/60", l.Brevo.ContactsPerSecond, l.Brevo.EventsPerSecond)
	}
}
