package braze

import (
	"context"
	"errors"
	"fmt"
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
			name: "400 with braze error body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"message":"Max Input Length Exceeded","errors":["too many"]}`))
			},
			check: func(t *testing.T, err error) {
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Message != "Max Input Length Exceeded" || len(apiErr.Errors) != 1 {
					t.Fatalf("err = %#v", err)
				}
			},
		},
		{
			name: "503 with html body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte("<html>\n  <body>down for maintenance</body></html>"))
			},
			retryable: true,
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "<html> <body>down for maintenance") {
					t.Fatalf("err = %v", err)
				}
			},
		},
		{
			name: "timeout",
			handler: func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done()
			},
			timeout:   50 * time.Millisecond,
			retryable: true,
		},
		{
			name: "truncated body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "500")
				_, _ = w.Write([]byte(`{"segments":[{"id":"a"`))
			},
			retryable: true,
		},
		{
			name: "connection reset before answer",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					_ = conn.Close()
				}
			},
			retryable: true,
		},
		{
			name: "malformed complete body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(`{"segments":"not a list"}`))
			},
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "decoding response") {
					t.Fatalf("err = %v", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec := newTestClient(t, tt.handler, func(cfg *Config) {
				if tt.timeout > 0 {
					cfg.Timeout = tt.timeout
				}
			})
			_, err := c.ListSegments(context.Background(), 0)
			if err == nil {
				t.Fatal("ListSegments succeeded, want an error")
			}
			if got := Retryable(err); got != tt.retryable {
				t.Fatalf("Retryable(%v) = %v, want %v", err, got, tt.retryable)
			}
			assertNoKey(t, err)
			if tt.check != nil {
				tt.check(t, err)
			}
			calls := rec.All()
			if len(calls) != 1 || calls[0].Err == nil || calls[0].Path != "/segments/list" || calls[0].Vendor != "braze" {
				t.Fatalf("calls = %+v, want one failed call on /segments/list", calls)
			}
		})
	}
}

func TestCallerCancelIsNotRetryable(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := c.ListSegments(ctx, 0)
	if !errors.Is(err, context.DeadlineExceeded) || Retryable(err) {
		t.Fatalf("err = %v (retryable %v), want the caller's deadline, not retryable", err, Retryable(err))
	}
}

func TestRateLimitHeadersMakeNextCallWait(t *testing.T) {
	clock := restcall.NewManualClock(time.Unix(1_700_000_000, 0))
	reset := clock.Now().Add(90 * time.Second)
	remaining := 1
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		remaining--
		w.Header().Set("X-RateLimit-Limit", "250000")
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		_, _ = w.Write([]byte(`{"message":"success","segments":[]}`))
	})
	installClock(c, clock)
	ctx := context.Background()

	if _, err := c.ListSegments(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if len(clock.Slept()) != 0 {
		t.Fatalf("first call waited %v", clock.Slept())
	}
	got := c.RateLimit()[bucketDefault]
	if want := (RateLimit{Limit: 250000, Remaining: 0, Reset: reset.UTC()}); got != want {
		t.Fatalf("RateLimit = %+v, want %+v", got, want)
	}
	if _, err := c.ListSegments(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if len(clock.Slept()) != 1 || clock.Slept()[0] != 90*time.Second {
		t.Fatalf("second call waited %v, want [1m30s]", clock.Slept())
	}
	// Another bucket is not held back by the default pool.
	if _, ok := c.RateLimit()[bucketExportIDs]; ok {
		t.Fatal("export ids bucket recorded without a call")
	}
}

func TestRateLimitWaitHonoursContext(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"message":"rate limited"}`))
	})
	ctx := context.Background()
	_, err := c.ListSegments(ctx, 0)
	if !Retryable(err) || restcall.RetryAfter(err, time.Now()) < 59*time.Minute {
		t.Fatalf("429: err = %v, retryable %v, retry after %v", err, Retryable(err), restcall.RetryAfter(err, time.Now()))
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.ListSegments(ctx, 0)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("second call: err = %v after %v, want the context deadline while waiting for the reset", err, time.Since(start))
	}
}

// segmentServer serves n segments in pages of 100, recording the pages asked.
func segmentServer(n int, names func(i int) string) (http.HandlerFunc, *[]string) {
	var pages []string
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/segments/list" {
			http.NotFound(w, r)
			return
		}
		pages = append(pages, r.URL.Query().Get("page"))
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		var items []string
		for i := page * 100; i < min(n, (page+1)*100); i++ {
			items = append(items, fmt.Sprintf(`{"id":"seg-%d","name":%q,"analytics_tracking_enabled":true,"tags":["t"]}`, i, names(i)))
		}
		_, _ = fmt.Fprintf(w, `{"message":"success","segments":[%s]}`, strings.Join(items, ","))
	}, &pages
}

func TestSegmentsPaging(t *testing.T) {
	tests := []struct {
		n         int
		wantPages []string
	}{
		{0, []string{"0"}},
		{99, []string{"0"}},
		{100, []string{"0", "1"}},
		{250, []string{"0", "1", "2"}},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.n), func(t *testing.T) {
			h, pages := segmentServer(tt.n, func(i int) string { return fmt.Sprintf("Segment %d", i) })
			c, _ := newTestClient(t, h)
			segs, err := c.Segments(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(segs) != tt.n || strings.Join(*pages, ",") != strings.Join(tt.wantPages, ",") {
				t.Fatalf("got %d segments over pages %v, want %d over %v", len(segs), *pages, tt.n, tt.wantPages)
			}
			for i, s := range segs {
				if s.ID != fmt.Sprintf("seg-%d", i) || !s.AnalyticsTrackingEnabled || len(s.Tags) != 1 {
					t.Fatalf("segment %d = %+v", i, s)
				}
			}
		})
	}
}

func TestFindSegment(t *testing.T) {
	names := func(i int) string {
		switch i {
		case 7, 170:
			return "Twice"
		case 150:
			return "seg-3" // a name equal to another segment's id: the id wins
		}
		return fmt.Sprintf("Segment %d", i)
	}
	tests := []struct {
		query   string
		wantID  string
		wantErr string
	}{
		{"seg-120", "seg-120", ""},
		{"Segment 199", "seg-199", ""},
		{"seg-3", "seg-3", ""},
		{"Twice", "", "2 segments have that name"},
		{"Nope", "", ErrSegmentNotFound.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			h, _ := segmentServer(200, names)
			c, _ := newTestClient(t, h)
			seg, err := c.FindSegment(context.Background(), tt.query)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || seg.ID != tt.wantID {
				t.Fatalf("FindSegment = %+v, %v; want id %s", seg, err, tt.wantID)
			}
		})
	}
}

func TestWrongKeyIs401NotRetryable(t *testing.T) {
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {}, func(cfg *Config) { cfg.APIKey = "wrong" })
	_, err := c.ListSegments(context.Background(), 0)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || Retryable(err) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("err = %v", err)
	}
}
