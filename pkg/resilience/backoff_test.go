package resilience

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/restcall"
)

func TestPolicyDelayBounds(t *testing.T) {
	base := Policy{Backoff: restcall.Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2}}
	tests := []struct {
		name     string
		jitter   string
		rnd      float64
		attempt  int
		min, max time.Duration
	}{
		{"full, top of the range, 1st", JitterFull, 0.999, 1, 99 * time.Millisecond, 100 * time.Millisecond},
		{"full, top of the range, 3rd", JitterFull, 0.999, 3, 399 * time.Millisecond, 400 * time.Millisecond},
		{"full, capped at max", JitterFull, 0.999, 30, 999 * time.Millisecond, time.Second},
		{"full, bottom is zero", JitterFull, 0, 4, 0, 0},
		{"full, absurd attempt stays capped", JitterFull, 0.5, 1 << 20, 500 * time.Millisecond, 500 * time.Millisecond},
		{"decorrelated, bottom is initial", JitterDecorrelated, 0, 5, 100 * time.Millisecond, 100 * time.Millisecond},
		{"decorrelated, top is 3x the previous ceiling", JitterDecorrelated, 0.999, 3, 599 * time.Millisecond, 600 * time.Millisecond},
		{"decorrelated, capped at max", JitterDecorrelated, 0.999, 10, 999 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base
			p.Jitter = tt.jitter
			p.Rand = func() float64 { return tt.rnd }
			if got := p.Delay(tt.attempt); got < tt.min || got > tt.max {
				t.Errorf("Delay(%d) = %v, want in [%v, %v]", tt.attempt, got, tt.min, tt.max)
			}
		})
	}
}

func TestPolicyDelayIsJittered(t *testing.T) {
	for _, jitter := range []string{JitterFull, JitterDecorrelated} {
		p := Policy{Backoff: restcall.Backoff{Initial: time.Second, Max: time.Hour}, Jitter: jitter}
		seen := map[time.Duration]bool{}
		for range 50 {
			seen[p.Delay(4)] = true
		}
		if len(seen) < 40 {
			t.Errorf("%s jitter: 50 delays took only %d distinct values", jitter, len(seen))
		}
	}
}

func TestPolicyDo(t *testing.T) {
	transient := &brevo.APIError{StatusError: restcall.StatusError{Method: "GET", Path: "/processes/{id}", Status: http.StatusServiceUnavailable}}
	permanent := &brevo.APIError{StatusError: restcall.StatusError{Method: "POST", Path: "/contacts", Status: http.StatusBadRequest}}
	tests := []struct {
		name       string
		policy     Policy
		failures   int   // calls that fail before one succeeds (-1: all fail)
		err        error // what they fail with
		wantCalls  int
		wantErr    bool
		wantInErr  string
		wantWaited time.Duration // minimum total wait
	}{
		{name: "success after two failures", failures: 2, err: transient, wantCalls: 3},
		{name: "attempts bound", policy: Policy{MaxAttempts: 4}, failures: -1, err: transient, wantCalls: 4, wantErr: true, wantInErr: "after 4 attempts"},
		{name: "total time bound", policy: Policy{Backoff: restcall.Backoff{Initial: 10 * time.Second, Max: 10 * time.Second}, Jitter: JitterDecorrelated, MaxAttempts: 100, MaxElapsed: 35 * time.Second},
			failures: -1, err: transient, wantCalls: 4, wantErr: true, wantInErr: "retry budget"},
		{name: "4xx is not retried", failures: -1, err: permanent, wantCalls: 1, wantErr: true},
		{name: "429 waits for the reset", failures: 1, wantCalls: 2, wantWaited: 42 * time.Second,
			err: &brevo.APIError{StatusError: restcall.StatusError{Status: http.StatusTooManyRequests, Reset: t0.Add(42 * time.Second)}}},
		{name: "425 account in process is retried", failures: 1, err: &brevo.APIError{StatusError: restcall.StatusError{Status: http.StatusTooEarly}}, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := restcall.NewManualClock(t0)
			p := tt.policy
			p.Clock = c
			calls := 0
			err := p.Do(context.Background(), func(ctx context.Context) error {
				calls++
				if tt.failures < 0 || calls <= tt.failures {
					return fmt.Errorf("polling: %w", tt.err)
				}
				return nil
			})
			if calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls, tt.wantCalls)
			}
			if (err != nil) != tt.wantErr || (err != nil && !strings.Contains(err.Error(), tt.wantInErr)) {
				t.Errorf("Do = %v, want error %v containing %q", err, tt.wantErr, tt.wantInErr)
			}
			if err != nil && !errors.Is(err, tt.err) {
				t.Errorf("Do = %v, does not wrap the last failure", err)
			}
			if waited := c.Now().Sub(t0); waited < tt.wantWaited {
				t.Errorf("waited %v, want at least %v", waited, tt.wantWaited)
			}
			if p.MaxElapsed > 0 && c.Now().Sub(t0) > p.MaxElapsed {
				t.Errorf("retried for %v, past the %v budget", c.Now().Sub(t0), p.MaxElapsed)
			}
		})
	}
}

func TestPolicyDoMarksAttempts(t *testing.T) {
	var seen []int
	var calls []brevo.Call
	sim := newBrevoSim(t, false)
	client, err := brevo.New(brevo.Config{APIKey: sim.key, BaseURL: sim.url, Observer: func(c brevo.Call) { calls = append(calls, c) }})
	if err != nil {
		t.Fatal(err)
	}
	p := Policy{Clock: restcall.NewManualClock(t0)}
	_ = p.Do(context.Background(), func(ctx context.Context) error {
		seen = append(seen, len(seen)+1)
		_, err := client.Process(ctx, 999999) // unknown: 404, not retried
		if len(seen) < 3 {
			return &brevo.APIError{StatusError: restcall.StatusError{Status: http.StatusBadGateway}}
		}
		return err
	})
	if len(calls) != 3 {
		t.Fatalf("%d calls observed, want 3", len(calls))
	}
	for i, c := range calls {
		if c.Attempt != i+1 {
			t.Errorf("call %d observed as attempt %d", i+1, c.Attempt)
		}
	}
}

func TestPolicyDoStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Policy{Clock: restcall.NewManualClock(t0)}.Do(ctx, func(context.Context) error {
		calls++
		cancel()
		return &brevo.APIError{StatusError: restcall.StatusError{Status: http.StatusBadGateway}}
	})
	if calls != 1 || err == nil {
		t.Errorf("after cancel: %d calls, err %v; want 1 call and the error", calls, err)
	}
}

func TestPolicyValidate(t *testing.T) {
	bad := []Policy{
		{Backoff: restcall.Backoff{Initial: time.Minute, Max: time.Second}},
		{Backoff: restcall.Backoff{Multiplier: 0.5}},
		{Jitter: "equal"},
		{MaxAttempts: -1},
		{MaxElapsed: -time.Second},
	}
	for _, p := range bad {
		if err := p.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidConfig", p, err)
		}
	}
	if err := (Policy{}).Validate(); err != nil {
		t.Errorf("zero Policy: %v", err)
	}
}
