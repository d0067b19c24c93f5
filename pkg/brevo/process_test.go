package brevo

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// processServer answers GET /processes/78 with the scripted responses in
// order, repeating the last one.
func processServer(script ...func(w http.ResponseWriter)) (http.HandlerFunc, func() int) {
	var mu sync.Mutex
	polls := 0
	return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/processes/78" {
				http.NotFound(w, r)
				return
			}
			mu.Lock()
			step := script[min(polls, len(script)-1)]
			polls++
			mu.Unlock()
			step(w)
		}, func() int {
			mu.Lock()
			defer mu.Unlock()
			return polls
		}
}

func status(s string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		_, _ = w.Write([]byte(`{"id":78,"status":"` + s + `","name":"IMPORTUSER"}`))
	}
}

func reply(code int, body string, headers ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

func TestWaitProcess(t *testing.T) {
	tests := []struct {
		name        string
		script      []func(http.ResponseWriter)
		policy      Backoff
		cancelAfter int // cancel the caller's context before this many sleeps
		wantWaits   []time.Duration
		wantErr     string
	}{
		{
			name:      "default backoff, sparing",
			script:    []func(http.ResponseWriter){status("queued"), status("in_process"), status("in_process"), status("in_process"), status("in_process"), status("in_process"), status("completed")},
			wantWaits: []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second},
		},
		{
			name: "throttled poll waits for the reset",
			script: []func(http.ResponseWriter){
				reply(429, `{"code":"too_many_requests","message":"limit"}`, "x-sib-ratelimit-remaining", "0", "x-sib-ratelimit-reset", "600"),
				status("completed"),
			},
			policy:    Backoff{Initial: time.Second, Max: 10 * time.Second},
			wantWaits: []time.Duration{time.Second, 600 * time.Second},
		},
		{
			name:      "server error polled again",
			script:    []func(http.ResponseWriter){reply(503, "unavailable"), status("completed")},
			policy:    Backoff{Initial: time.Second},
			wantWaits: []time.Duration{time.Second, 2 * time.Second},
		},
		{
			name:      "unknown process is permanent",
			script:    []func(http.ResponseWriter){reply(404, `{"code":"invalid_parameter","message":"processId is invalid"}`)},
			wantWaits: []time.Duration{time.Second},
			wantErr:   "processId is invalid",
		},
		{
			name:        "timeout reports the last status",
			script:      []func(http.ResponseWriter){status("in_process")},
			policy:      Backoff{Initial: time.Second},
			cancelAfter: 3,
			wantErr:     "process 78 is in_process",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := processServer(tt.script...)
			c, rec := newTestClient(t, h)
			clock := restcall.NewManualClock(time.Unix(1_700_000_000, 0))
			installClock(c, clock)
			ctx := context.Background()
			if tt.cancelAfter > 0 {
				// The fake clock does not move real deadlines: stand in
				// for the caller's deadline with a context that ends after
				// the third wait.
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
				c.calls.Clock = &cancellingClock{ManualClock: clock, after: tt.cancelAfter, cancel: cancel}
			}
			p, err := c.WaitProcess(ctx, 78, tt.policy)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !p.Done() || p.ID != 78 || p.Name != "IMPORTUSER" {
				t.Fatalf("WaitProcess = %+v, %v", p, err)
			}
			if !reflect.DeepEqual(clock.Slept(), tt.wantWaits) {
				t.Fatalf("waits = %v, want %v", clock.Slept(), tt.wantWaits)
			}
			for i, call := range rec.All() {
				if call.Attempt != i+1 || call.Path != "/processes/{id}" {
					t.Fatalf("call %d = %+v", i, call)
				}
			}
		})
	}
}

func TestWaitProcessRealTimeout(t *testing.T) {
	h, polls := processServer(status("queued"))
	c, _ := newTestClient(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.WaitProcess(ctx, 78, Backoff{Initial: 5 * time.Millisecond, Max: 10 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || polls() < 2 {
		t.Fatalf("err = %v after %d polls", err, polls())
	}
	if _, err := c.WaitProcess(context.Background(), 78, Backoff{Initial: time.Second, Max: time.Millisecond}); err == nil {
		t.Fatal("a backoff with Max < Initial was accepted")
	}
}

// cancellingClock is a ManualClock that cancels the caller's context once
// it has slept after times.
type cancellingClock struct {
	*restcall.ManualClock
	after  int
	cancel context.CancelFunc
}

func (c *cancellingClock) Sleep(ctx context.Context, d time.Duration) error {
	if len(c.Slept()) == c.after {
		c.cancel()
	}
	return c.ManualClock.Sleep(ctx, d)
}
