package brevo

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

func TestErrorsFromServer(t *testing.T) {
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		timeout   time.Duration
		retryable bool
		check     func(t *testing.T, err error)
	}{
		{
			name: "duplicate SMS, matched on metadata not code",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"code":"some_new_code","message":"SMS is already associated with another Contact","metadata":{"duplicate_identifiers":["SMS"]}}`))
			},
			check: func(t *testing.T, err error) {
				var apiErr *APIError
				if got := DuplicateIdentifiers(err); len(got) != 1 || got[0] != "SMS" || !errors.As(err, &apiErr) || apiErr.Code != "some_new_code" {
					t.Fatalf("err = %v, duplicates %v", err, got)
				}
			},
		},
		{
			name: "402 not enough credits",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusPaymentRequired)
				_, _ = w.Write([]byte(`{"code":"not_enough_credits","message":"Not enough credits"}`))
			},
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "402 not_enough_credits: Not enough credits") {
					t.Fatalf("err = %v", err)
				}
			},
		},
		{
			name: "425 account in process",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusTooEarly)
				_, _ = w.Write([]byte(`{"code":"account_in_process","message":"busy"}`))
			},
			retryable: true,
		},
		{
			name: "502 from a proxy",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadGateway)
				_, _ = w.Write([]byte("<html>Bad Gateway</html>"))
			},
			retryable: true,
		},
		{
			name:      "timeout",
			handler:   func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			timeout:   50 * time.Millisecond,
			retryable: true,
		},
		{
			name: "truncated body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "400")
				_, _ = w.Write([]byte(`{"id":42,"email":"a@`))
			},
			retryable: true,
		},
		{
			name: "connection reset",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
					_ = conn.Close()
				}
			},
			retryable: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := newTestClient(t, tt.handler, func(cfg *Config) {
				if tt.timeout > 0 {
					cfg.Timeout = tt.timeout
				}
			})
			_, err := c.Contact(context.Background(), "ann+x@example.com", IdentifierEmail)
			if err == nil {
				t.Fatal("Contact succeeded, want an error")
			}
			if got := Retryable(err); got != tt.retryable {
				t.Fatalf("Retryable(%v) = %v, want %v", err, got, tt.retryable)
			}
			assertNoKey(t, err)
			if strings.Contains(err.Error(), "ann") {
				t.Fatalf("error reveals the contact's email: %v", err)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
			calls := rec.All()
			if len(calls) != 1 || calls[0].Err == nil || calls[0].Path != "/contacts/{identifier}" || calls[0].Vendor != "brevo" {
				t.Fatalf("calls = %+v, want one failed call on /contacts/{identifier}", calls)
			}
		})
	}
}

func TestRateLimitPerBucket(t *testing.T) {
	clock := restcall.NewManualClock(time.Unix(1_700_000_000, 0))
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-sib-ratelimit-limit", "10")
		if strings.HasPrefix(r.URL.Path, "/contacts") {
			w.Header().Set("x-sib-ratelimit-remaining", "0")
			w.Header().Set("x-sib-ratelimit-reset", "1")
			_, _ = w.Write([]byte(`{"attributes":[]}`))
			return
		}
		w.Header().Set("x-sib-ratelimit-remaining", "99")
		w.Header().Set("x-sib-ratelimit-reset", "3600")
		_, _ = w.Write([]byte(`{"id":1,"status":"queued","name":"import"}`))
	})
	installClock(c, clock)
	ctx := context.Background()

	if _, err := c.Attributes(ctx); err != nil {
		t.Fatal(err)
	}
	got := c.RateLimit()["contacts"]
	if want := (RateLimit{Limit: 10, Remaining: 0, Reset: clock.Now().Add(time.Second)}); got != want {
		t.Fatalf("contacts bucket = %+v, want %+v", got, want)
	}
	// Another bucket still has budget: no wait.
	if _, err := c.Process(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if len(clock.Slept()) != 0 {
		t.Fatalf("processes call waited %v", clock.Slept())
	}
	if rl := c.RateLimit()["processes"]; rl.Remaining != 99 {
		t.Fatalf("processes bucket = %+v", rl)
	}
	// The exhausted contacts bucket makes the next contacts call wait 1s.
	if _, err := c.Attributes(ctx); err != nil {
		t.Fatal(err)
	}
	if len(clock.Slept()) != 1 || clock.Slept()[0] != time.Second {
		t.Fatalf("waited %v, want [1s]", clock.Slept())
	}
}

func Test429CarriesReset(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-sib-ratelimit-remaining", "0")
		w.Header().Set("x-sib-ratelimit-reset", strconv.Itoa(3600))
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"code":"too_many_requests","message":"slow down"}`))
	})
	_, err := c.Attributes(context.Background())
	if !Retryable(err) || RetryAfter(err) < 59*time.Minute {
		t.Fatalf("err = %v, retry after %v", err, RetryAfter(err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Attributes(ctx); !errors.Is(err, context.DeadlineExceeded) || Retryable(err) {
		t.Fatalf("second call: %v, want the caller's deadline while waiting for the reset", err)
	}
}
