package braze

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
const Vendor = restcall.VendorBraze

// Call describes one HTTP call, handed to Config.Observer after it
// completes; its Attempt is restcall.AttemptOf the call's context.
type Call = restcall.Call

// Client calls the Braze REST API. Safe for concurrent use.
type Client struct {
	base      *url.URL
	auth      string
	http      *http.Client
	timeout   time.Duration
	userAgent string
	observer  func(Call)
	tracer    trace.Tracer // nil: calls are not traced
	limits    restcall.Limits
	paced     bool // Config.PacedByTransport
	clock     restcall.Clock

	maxExport, maxUncompressed int64 // Config.MaxExport*Bytes
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base, _ := url.Parse(strings.TrimRight(cfg.BaseURL, "/")) // Validate parsed it
	c := &Client{
		base:      base,
		auth:      "Bearer " + strings.TrimSpace(cfg.APIKey),
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
	// No redirect is followed, whatever client the caller gave: a 307 to
	// another host would take the key (and the body) there.
	c.http = restcall.Client(c.http)
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	c.maxExport, c.maxUncompressed = cfg.MaxExportBytes, cfg.MaxExportUncompressedBytes
	if c.maxExport == 0 {
		c.maxExport = DefaultMaxExportBytes
	}
	if c.maxUncompressed == 0 {
		c.maxUncompressed = DefaultMaxExportUncompressedBytes
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	return c, nil
}

// MaxExportUncompressed is the decompressed size of an export this client
// was configured to accept: pass it to ReadExportLimit.
func (c *Client) MaxExportUncompressed() int64 { return c.maxUncompressed }

// RateLimit returns the last rate-limit state seen per bucket ("default",
// "users.export.ids").
func (c *Client) RateLimit() map[string]RateLimit { return c.limits.Snapshot() }

// apiCall is one JSON request to the REST API.
type apiCall struct {
	method string
	path   string // also the route shown in errors and Calls
	query  url.Values
	body   any // JSON-encoded when non-nil
	bucket string
	// header, when set, receives the headers of a 2xx answer (the Link
	// header of catalog item pages).
	header *http.Header
}

// do sends call and decodes a 2xx JSON answer into out (when out is
// non-nil), in a span of its own when the client is traced.
func (c *Client) do(ctx context.Context, call apiCall, out any) error {
	ctx, end := restcall.StartSpan(ctx, c.tracer, Vendor, call.method, call.path, restcall.AttemptOf(ctx))
	status, err := c.send(ctx, call, out)
	end(status, err)
	return err
}

// send is do without the span; it also returns the status (0: no answer).
func (c *Client) send(ctx context.Context, call apiCall, out any) (int, error) {
	if d := c.limits.Delay(call.bucket, c.clock.Now()); d > 0 && !c.paced {
		if err := c.clock.Sleep(ctx, d); err != nil {
			return 0, fmt.Errorf("braze: %s %s: waiting %v for the rate-limit reset: %w", call.method, call.path, d, err)
		}
	}
	req, err := c.newRequest(ctx, call)
	if err != nil {
		return 0, err
	}
	reqCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req = req.WithContext(reqCtx)

	start := c.clock.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		err = restcall.NewTransportError(ctx, Vendor, call.method, call.path, "sending request", err)
		c.observe(ctx, call.method, call.path, 0, start, err)
		return 0, err
	}
	defer restcall.CloseBody(resp.Body)
	rl := c.recordLimits(call.bucket, resp.Header)

	switch {
	case restcall.IsRedirect(resp.StatusCode):
		err = fmt.Errorf("braze: %s %s: %w", call.method, call.path, restcall.RedirectError(resp))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		err = newAPIError(call.method, call.path, resp, rl.Reset)
	case out != nil:
		err = restcall.DecodeAnswer(ctx, Vendor, call.method, call.path, resp.Body, out)
	}
	if err == nil && call.header != nil {
		*call.header = resp.Header.Clone()
	}
	c.observe(ctx, call.method, call.path, resp.StatusCode, start, err)
	return resp.StatusCode, err
}

func (c *Client) newRequest(ctx context.Context, call apiCall) (*http.Request, error) {
	u := *c.base
	u.Path = c.base.Path + call.path
	u.RawQuery = call.query.Encode()
	var body io.Reader
	if call.body != nil {
		raw, err := json.Marshal(call.body)
		if err != nil {
			return nil, fmt.Errorf("braze: %s %s: encoding request: %w", call.method, call.path, err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, call.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("braze: %s %s: building request: %w", call.method, call.path, err)
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

func (c *Client) observe(ctx context.Context, method, path string, status int, start time.Time, err error) {
	if c.observer == nil {
		return
	}
	c.observer(Call{
		Vendor: Vendor, Method: method, Path: path, Status: status,
		Duration: c.clock.Now().Sub(start), Err: err, Attempt: restcall.AttemptOf(ctx),
	})
}
