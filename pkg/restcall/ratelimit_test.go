package restcall

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestCounts(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   RateLimit
		ok     bool
	}{
		{"both", http.Header{"X-Limit": {"100"}, "X-Left": {" 7 "}}, RateLimit{Limit: 100, Remaining: 7}, true},
		{"no limit", http.Header{"X-Left": {"0"}}, RateLimit{Remaining: 0}, true},
		{"no remaining", http.Header{"X-Limit": {"100"}}, RateLimit{}, false},
		{"garbled remaining", http.Header{"X-Limit": {"100"}, "X-Left": {"many"}}, RateLimit{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Counts(tt.header, "x-limit", "x-left")
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Counts = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestSeconds(t *testing.T) {
	h := http.Header{"X-Reset": {" 1.5 "}, "X-Bad": {"soon"}}
	if secs, ok := Seconds(h, "x-reset"); !ok || secs != 1.5 {
		t.Fatalf("Seconds = %v, %v; want 1.5", secs, ok)
	}
	for _, name := range []string{"x-bad", "x-missing"} {
		if _, ok := Seconds(h, name); ok {
			t.Fatalf("Seconds(%s) ok, want not", name)
		}
	}
}

// vendorLimit stands for a vendor's own RateLimit type.
type vendorLimit struct {
	Limit     int
	Remaining int
	Reset     time.Time
}

func TestLimitsDelay(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var l Limits[vendorLimit]
	l.Set("spent", vendorLimit{Limit: 10, Remaining: 0, Reset: now.Add(90 * time.Second)})
	l.Set("left", vendorLimit{Limit: 10, Remaining: 1, Reset: now.Add(time.Hour)})
	l.Set("passed", vendorLimit{Remaining: 0, Reset: now.Add(-time.Second)})
	l.Set("unknown reset", vendorLimit{Remaining: 0})
	for bucket, want := range map[string]time.Duration{
		"spent": 90 * time.Second, "left": 0, "passed": 0, "unknown reset": 0, "never seen": 0,
	} {
		if got := l.Delay(bucket, now); got != want {
			t.Errorf("Delay(%q) = %v, want %v", bucket, got, want)
		}
	}
	// The latest response wins.
	l.Set("spent", vendorLimit{Limit: 10, Remaining: 10, Reset: now.Add(time.Hour)})
	if got := l.Delay("spent", now); got != 0 {
		t.Errorf("Delay after a refill = %v, want 0", got)
	}
}

func TestLimitsSnapshotIsACopy(t *testing.T) {
	var l Limits[RateLimit]
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
	var l Limits[RateLimit]
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
