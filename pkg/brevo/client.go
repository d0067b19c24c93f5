package brevo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	userAgent string
	calls     restcall.Caller // its Clock also spaces WaitProcess's polls
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{
		baseURL:   strings.TrimRight(cfg.BaseURL, "/"),
		apiKey:    strings.TrimSpace(cfg.APIKey),
		userAgent: cfg.UserAgent,
	}
	if c.baseURL == "" {
		c.baseURL = DefaultBaseURL
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	c.calls = restcall.Caller{Vendor: Vendor, HTTP: cfg.HTTPClient, Timeout: cfg.Timeout, Observer: cfg.Observer,
		Tracer: cfg.Tracer, Clock: cfg.Clock, Paced: cfg.PacedByTransport, Headers: restcall.BrevoHeaders, NewError: apiError}
	c.calls.Defaults(DefaultTimeout)
	return c, nil
}

// apiError is newAPIError as a restcall.Caller's NewError.
func apiError(method, route string, resp *http.Response, reset time.Time) error {
	return newAPIError(method, route, resp, reset)
}

// RateLimit returns the last rate-limit state seen per bucket ("contacts",
// "processes", ...).
func (c *Client) RateLimit() map[string]RateLimit { return c.calls.Limits.Snapshot() }

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
// the answer has a body) and returns the status (restcall.Caller).
func (c *Client) do(ctx context.Context, call apiCall, out any) (int, error) {
	route := call.shown()
	return c.calls.Do(ctx, restcall.Request{
		Method: call.method, Route: route, Bucket: bucketOf(call.path), Out: out,
		Build: func(ctx context.Context) (*http.Request, error) { return c.newRequest(ctx, call, route) },
	})
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
