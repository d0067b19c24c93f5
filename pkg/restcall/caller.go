package restcall

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Caller is the part of a vendor API call every client shares: the wait
// for a spent bucket's reset, the per-call timeout, the client span, the
// request, the rate-limit headers of the answer, a redirect refused, a
// non-2xx answer turned into the vendor's error, the JSON answer decoded,
// and the Call handed to the observer. The vendor's package builds the
// request and the error. Configure the exported fields, then use it by
// pointer from any goroutine; do not copy it once used.
type Caller struct {
	Vendor string
	// HTTP carries the calls; Client(nil) when nil.
	HTTP *http.Client
	// Timeout bounds one call, reading its answer included; none when zero.
	Timeout time.Duration
	// Observer, when set, is handed every call once it completed.
	Observer func(Call)
	// Tracer, when set, traces every call (StartSpan).
	Tracer trace.Tracer
	// Clock times the waits and the Calls' durations; SystemClock when nil.
	Clock Clock
	// Paced turns off the wait for a spent bucket: a pacer under HTTP
	// (pkg/resilience) waits more precisely.
	Paced bool
	// Headers are the vendor's rate-limit headers.
	Headers Headers
	// NewError builds the vendor's error of a non-2xx answer (not a
	// redirect); reset is when the answer said its bucket resets.
	NewError func(method, route string, resp *http.Response, reset time.Time) error
	// Limits is what the answers said of each bucket.
	Limits Limits
}

// Defaults fills in what a vendor client's configuration left zero: HTTP
// becomes Client(HTTP) (the caller's client, made to follow no redirect: a
// 307 to another host would take the key and the body there), Timeout
// timeout, Clock SystemClock.
func (c *Caller) Defaults(timeout time.Duration) {
	c.HTTP = Client(c.HTTP)
	if c.Timeout == 0 {
		c.Timeout = timeout
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
}

// Request is one call as a Caller sends it.
type Request struct {
	Method string
	// Route is the path as shown in errors, Calls and spans: a template,
	// never an identifier, e-mail or key.
	Route string
	// Bucket is the rate-limit bucket of the call; "" for a call no vendor
	// budget counts (its headers are not read either).
	Bucket string
	// Build makes the HTTP request with ctx, which bounds the call.
	Build func(ctx context.Context) (*http.Request, error)
	// Out, when set, receives a 2xx JSON answer (an empty one leaves it).
	Out any
	// Header, when set, receives the headers of a 2xx answer.
	Header *http.Header
}

func (c *Caller) clock() Clock {
	if c.Clock == nil {
		return SystemClock{}
	}
	return c.Clock
}

// Do sends r in a span of its own (when traced) and returns the answer's
// status (0 when none arrived) and the call's error.
func (c *Caller) Do(ctx context.Context, r Request) (int, error) {
	ctx, end := StartSpan(ctx, c.Tracer, c.Vendor, r.Method, r.Route, AttemptOf(ctx))
	status, err := c.send(ctx, r)
	end(status, err)
	return status, err
}

func (c *Caller) send(ctx context.Context, r Request) (int, error) {
	clock := c.clock()
	if r.Bucket != "" && !c.Paced {
		if d := c.Limits.Delay(r.Bucket, clock.Now()); d > 0 {
			if err := clock.Sleep(ctx, d); err != nil {
				return 0, fmt.Errorf("%s: %s %s: waiting %v for the rate-limit reset: %w", c.Vendor, r.Method, r.Route, d, err)
			}
		}
	}
	reqCtx := ctx
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		reqCtx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	req, err := r.Build(reqCtx)
	if err != nil {
		return 0, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = Client(nil)
	}
	start := clock.Now()
	resp, err := hc.Do(req)
	if err != nil {
		err = NewTransportError(ctx, c.Vendor, r.Method, r.Route, "sending request", err)
		c.Observe(ctx, r.Method, r.Route, 0, start, err)
		return 0, err
	}
	defer CloseBody(resp.Body)
	var rl RateLimit
	if r.Bucket != "" {
		var ok bool
		if rl, ok = c.Headers.Read(resp.Header, clock.Now()); ok {
			c.Limits.Set(r.Bucket, rl)
		}
	}
	switch {
	case IsRedirect(resp.StatusCode):
		err = fmt.Errorf("%s: %s %s: %w", c.Vendor, r.Method, r.Route, RedirectError(resp))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		err = c.NewError(r.Method, r.Route, resp, rl.Reset)
	case r.Out != nil:
		err = DecodeAnswer(ctx, c.Vendor, r.Method, r.Route, resp.Body, r.Out)
	}
	if err == nil && r.Header != nil {
		*r.Header = resp.Header.Clone()
	}
	c.Observe(ctx, r.Method, r.Route, resp.StatusCode, start, err)
	return resp.StatusCode, err
}

// Observe hands the observer the Call of a request sent at start, for
// calls a client makes without Do (a download); its attempt is ctx's.
func (c *Caller) Observe(ctx context.Context, method, route string, status int, start time.Time, err error) {
	if c.Observer == nil {
		return
	}
	c.Observer(Call{
		Vendor: c.Vendor, Method: method, Path: route, Status: status,
		Duration: c.clock().Now().Sub(start), Err: err, Attempt: AttemptOf(ctx),
	})
}
