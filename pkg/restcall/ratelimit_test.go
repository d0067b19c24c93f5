package restcall

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestHeadersRead(t *testing.T) {
	now := time.Unix(1_700_000_000, 0).UTC()
	tests := []struct {
		name   string
		names  Headers
		header http.Header
		want   RateLimit
		ok     bool
	}{
		{"brevo: reset in seconds from now", BrevoHeaders,
			http.Header{"X-Sib-Ratelimit-Limit": {"10"}, "X-Sib-Ratelimit-Remaining": {" 7 "}, "X-Sib-Ratelimit-Reset": {"1.5"}},
			RateLimit{Limit: 10, Remaining: 7, Reset: now.Add(1500 * time.Millisecond)}, true},
		{"brevo: reset 0 is now", BrevoHeaders,
			http.Header{"X-Sib-Ratelimit-Remaining": {"0"}, "X-Sib-Ratelimit-Reset": {"0"}},
			RateLimit{Reset: now}, true},
		{"braze: reset as epoch seconds", BrazeHeaders,
			http.Header{"X-Ratelimit-Limit": {"250000"}, "X-Ratelimit-Remaining": {"3"}, "X-Ratelimit-Reset": {"1700003600"}},
			RateLimit{Limit: 250000, Remaining: 3, Reset: time.Unix(1_700_003_600, 0).UTC()}, true},
		{"braze: reset 0 is unknown", BrazeHeaders,
			http.Header{"X-Ratelimit-Remaining": {"3"}, "X-Ratelimit-Reset": {"0"}},
			RateLimit{Remaining: 3}, true},
		{"no limit", BrevoHeaders, http.Header{"X-Sib-Ratelimit-Remaining": {"0"}}, RateLimit{}, true},
		{"negative remaining reads 0", BrevoHeaders, http.Header{"X-Sib-Ratelimit-Remaining": {"-4"}}, RateLimit{}, true},
		{"garbled reset", BrevoHeaders,
			http.Header{"X-Sib-Ratelimit-Remaining": {"1"}, "X-Sib-Ratelimit-Reset": {"soon"}}, RateLimit{Remaining: 1}, true},
		{"huge reset", BrevoHeaders,
			http.Header{"X-Sib-Ratelimit-Remaining": {"1"}, "X-Sib-Ratelimit-Reset": {"1e300"}}, RateLimit{Remaining: 1}, true},
		{"no remaining", BrevoHeaders, http.Header{"X-Sib-Ratelimit-Limit": {"100"}}, RateLimit{}, false},
		{"garbled remaining", BrazeHeaders, http.Header{"X-Ratelimit-Remaining": {"many"}}, RateLimit{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.names.Read(tt.header, now)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Read = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestLimitsDelay(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var l Limits
	l.Set("spent", RateLimit{Limit: 10, Remaining: 0, Reset: now.Add(90 * time.Second)})
	l.Set("left", RateLimit{Limit: 10, Remaining: 1, Reset: now.Add(time.Hour)})
	l.Set("passed", RateLimit{Remaining: 0, Reset: now.Add(-time.Second)})
	l.Set("unknown reset", RateLimit{Remaining: 0})
	for bucket, want := range map[string]time.Duration{
		"spent": 90 * time.Second, "left": 0, "passed": 0, "unknown reset": 0, "never seen": 0,
	} {
		if got := l.Delay(bucket, now); got != want {
			t.Errorf("Delay(%q) = %v, want %v", bucket, got, want)
		}
	}
	// The latest response wins.
	l.Set("spent", RateLimit{Limit: 10, Remaining: 10, Reset: now.Add(time.Hour)})
	if got := l.Delay("spent", now); got != 0 {
		t.Errorf("Delay after a refill = %v, want 0", got)
	}
}

func TestLimitsSnapshotIsACopy(t *testing.T) {
	var l Limits
	if got := l.Snapshot(); len(got) != 0 {
		t.Fatalf("zero Limits snapshot = %v", got)
	}
	l.Set("a", RateLimit{Limit: 1, Remaining: 1})
	snap := l.Snapshot()
	snap["a"] = RateLimit{}
	snap["b"] = RateLimit{}
	if got := l.Snapshot(); len(got) != 1 || got["a"] != (RateLimit{Limit: 1, Remaining: 1}) {
		t.Fatalf("Snapshot after changing a copy = %v", got)
	}
}

func TestLimitsConcurrent(t *testing.T) {
	var l Limits
	now := time.Now()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bucket := fmt.Sprint(i % 2)
			for j := range 100 {
				l.Set(bucket, RateLimit{Remaining: j})
				_ = l.Delay(bucket, now)
				_ = l.Snapshot()
			}
		}()
	}
	wg.Wait()
	if got := l.Snapshot(); len(got) != 2 || got["0"].Remaining != 99 || got["1"].Remaining != 99 {
		t.Fatalf("Snapshot = %v, want both buckets at their last Set", got)
	}
}
