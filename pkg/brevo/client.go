package brevo

import (
	"bytes"
	"context"
	"encoding/json"
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
const Vendor = restcall.VendorBrevo

// Call describes one HTTP call, handed to Config.Observer after it
// completes; its Attempt is restcall.AttemptOf the call's context.
type Call = restcall.Call

// Client calls the Brevo API v3. Safe for concurrent use.
type Client struct {
	baseURL   string // no trailing slash
	apiKey    string
	http      *http.Client
	timeout   time.Duration
	userAgent string
	observer  func(Call)
	tracer    trace.Tracer // nil: calls are not traced
	limits    restcall.Limits
	paced     bool // Config.PacedByTransport
	clock     restcall.Clock
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
		clock:     cfg.Clock,
	}
	if c.clock == nil {
		c.clock = restcall.SystemClock{}
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
	ctx, end := restcall.StartSpan(ctx, c.tracer, Vendor, call.method, call.shown(), restcall.AttemptOf(ctx))
	status, err := c.send(ctx, call, out)
	end(status, err)
	return status, err
}

// send is do without the span.
func (c *Client) send(ctx context.Context, call apiCall, out any) (int, error) {
	route, bucket := call.shown(), bucketOf(call.path)
	if d := c.limits.Delay(bucket, c.clock.Now()); d > 0 && !c.paced {
		if err := c.clock.Sleep(ctx, d); err != nil {
			return 0, fmt.Errorf("brevo: %s %s: waiting %v for the rate-limit reset: %w", call.method, route, d, err)
		}
	}
	reqCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.newRequest(reqCtx, call, route)
	if err != nil {
		return 0, err
	}

	start := c.clock.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		err = restcall.NewTransportError(ctx, Vendor, call.method, route, "sending request", err)
		c.observe(ctx, call.method, route, 0, start, err)
		return 0, err
	}
	defer restcall.CloseBody(resp.Body)
	rl := c.recordLimits(bucket, resp.Header, c.clock.Now())

	switch {
	case restcall.IsRedirect(resp.StatusCode):
		err = fmt.Errorf("brevo: %s %s: %w", call.method, route, restcall.RedirectError(resp))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		err = newAPIError(call.method, route, resp, rl.Reset)
	case out != nil && resp.StatusCode != http.StatusNoContent:
		err = restcall.DecodeAnswer(ctx, Vendor, call.method, route, resp.Body, out)
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
		Duration: c.clock.Now().Sub(start), Err: err, Attempt: restcall.AttemptOf(ctx),
	})
}
