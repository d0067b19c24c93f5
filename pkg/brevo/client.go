package brevo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go.opentelemetry.io/otel/trace"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// Vendor names this API in Calls.
const Vendor = "brevo"

// Call describes one HTTP call, handed to Config.Observer after it completes.
type Call struct {
	Vendor   string
	Method   string
	Path     string // the route, e.g. /contacts/{identifier}: no query, no key, no email
	Status   int    // 0 when no response arrived
	Duration time.Duration
	Err      error
	Attempt  int // 1-based; see WithAttempt
}

type attemptKey struct{}

// WithAttempt marks calls made with ctx as the n-th attempt of one logical
// operation, so that retry middleware outside the client shows up in Calls.
func WithAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

func attemptOf(ctx context.Context) int {
	if n, ok := ctx.Value(attemptKey{}).(int); ok && n > 0 {
		return n
	}
	return 1
}

// Client calls the Brevo API v3. Safe for concurrent use.
type Client struct {
	baseURL   string // no trailing slash
	apiKey    string
	http      *http.Client
	timeout   time.Duration
	userAgent string
	observer  func(Call)
	tracer    trace.Tracer // nil: calls are not traced
	limits    restcall.Limits[RateLimit]
	paced     bool // Config.PacedByTransport

	// now and wait are the clock, replaced in tests.
	now  func() time.Time
	wait func(context.Context, time.Duration) error
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{
		baseURL:   strings.TrimRight(cfg.BaseURL, "/"),
		apiKey:    strings.TrimSpace(cfg.APIKey),
		http:      cfg.HTTPClient,
		timeout:   cfg.Timeout,
		userAgent: cfg.UserAgent,
		observer:  cfg.Observer,
		tracer:    cfg.Tracer,
		paced:     cfg.PacedByTransport,
		now:       time.Now,
		wait:      restcall.Sleep,
	}
	if c.baseURL == "" {
		c.baseURL = DefaultBaseURL
	}
	// No redirect is followed, whatever client the caller gave: a 307 to
	// another host would take the key (and the body) there.
	c.http = restcall.Client(c.http)
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	return c, nil
}

// RateLimit returns the last rate-limit state seen per bucket ("contacts",
// "processes", ...).
func (c *Client) RateLimit() map[string]RateLimit { return c.limits.Snapshot() }

// apiCall is one request to the API.
type apiCall struct {
	method string
	path   string // escaped, as sent
	route  string // as reported in errors and Calls; path when empty
	query  url.Values
	body   any    // JSON-encoded when non-nil
	raw    []byte // a body encoded already, sent as is
}

func (a apiCall) shown() string {
	if a.route != "" {
		return a.route
	}
	return a.path
}

// do sends call, decodes a 2xx JSON answer into out (when out is non-nil and
// the answer has a body) and returns the status, in a span of its own when
// the client is traced.
func (c *Client) do(ctx context.Context, call apiCall, out any) (int, error) {
	ctx, end := restcall.StartSpan(ctx, c.tracer, Vendor, call.method, call.shown(), attemptOf(ctx))
	status, err := c.send(ctx, call, out)
	end(status, err)
	return status, err
}

// send is do without the span.
func (c *Client) send(ctx context.Context, call apiCall, out any) (int, error) {
	route, bucket := call.shown(), bucketOf(call.path)
	if d := c.limits.Delay(bucket, c.now()); d > 0 && !c.paced {
		if err := c.wait(ctx, d); err != nil {
			return 0, fmt.Errorf("brevo: %s %s: waiting %v for the rate-limit reset: %w", call.method, route, d, err)
		}
	}
	reqCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.newRequest(reqCtx, call, route)
	if err != nil {
		return 0, err
	}

	start := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		err = transportError(ctx, call.method, route, "sending request", err)
		c.observe(ctx, call.method, route, 0, start, err)
		return 0, err
	}
	defer restcall.CloseBody(resp.Body)
	rl := c.recordLimits(bucket, resp.Header, c.now())

	switch {
	case restcall.IsRedirect(resp.StatusCode):
		err = fmt.Errorf("brevo: %s %s: %w", call.method, route, restcall.RedirectError(resp))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		err = newAPIError(call.method, route, resp, rl.Reset)
	case out != nil && resp.StatusCode != http.StatusNoContent:
		err = decodeJSON(ctx, call.method, route, resp.Body, out)
	}
	c.observe(ctx, call.method, route, resp.StatusCode, start, err)
	return resp.StatusCode, err
}

func (c *Client) newRequest(ctx context.Context, call apiCall, route string) (*http.Request, error) {
	target := c.baseURL + call.path
	if len(call.query) > 0 {
		target += "?" + call.query.Encode()
	}
	raw := call.raw
	if call.body != nil {
		var err error
		if raw, err = json.Marshal(call.body); err != nil {
			return nil, fmt.Errorf("brevo: %s %s: encoding request: %w", call.method, route, err)
		}
	}
	var body io.Reader
	if raw != nil {
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, call.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("brevo: %s %s: building request: %w", call.method, route, restcall.StripURL(err))
	}
	req.Header.Set("api-key", c.apiKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

func (c *Client) observe(ctx context.Context, method, route string, status int, start time.Time, err error) {
	if c.observer == nil {
		return
	}
	c.observer(Call{
		Vendor: Vendor, Method: method, Path: route, Status: status,
		Duration: c.now().Sub(start), Err: err, Attempt: attemptOf(ctx),
	})
}

// decodeJSON streams body into out. A body that ends early is a transport
// failure (retryable); a complete body that is not the expected JSON is not.
func decodeJSON(ctx context.Context, method, route string, body io.Reader, out any) error {
	cut, err := restcall.DecodeJSON(body, out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF) && !cut:
		return nil // an empty 2xx body: nothing to decode
	case cut:
		return transportError(ctx, method, route, "reading response", err)
	default:
		return fmt.Errorf("brevo: %s %s: decoding response: %w", method, route, err)
	}
}
