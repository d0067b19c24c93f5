package braze

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
const Vendor = restcall.VendorBraze

// Call describes one HTTP call, handed to Config.Observer after it
// completes; its Attempt is restcall.AttemptOf the call's context.
type Call = restcall.Call

// Client calls the Braze REST API. Safe for concurrent use.
type Client struct {
	base      *url.URL
	auth      string
	userAgent string
	// calls sends the API calls; its HTTP, Clock and Observe also serve
	// the export downloads and WaitExport's polls.
	calls restcall.Caller

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
		userAgent: cfg.UserAgent,
	}
	c.calls = restcall.Caller{Vendor: Vendor, HTTP: cfg.HTTPClient, Timeout: cfg.Timeout, Observer: cfg.Observer,
		Tracer: cfg.Tracer, Clock: cfg.Clock, Paced: cfg.PacedByTransport, Headers: restcall.BrazeHeaders, NewError: apiError}
	c.calls.Defaults(DefaultTimeout)
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

// apiError is newAPIError as a restcall.Caller's NewError.
func apiError(method, route string, resp *http.Response, reset time.Time) error {
	return newAPIError(method, route, resp, reset)
}

// MaxExportUncompressed is the decompressed size of an export this client
// was configured to accept: pass it to ReadExportLimit.
func (c *Client) MaxExportUncompressed() int64 { return c.maxUncompressed }

// RateLimit returns the last rate-limit state seen per bucket ("default",
// "users.export.ids").
func (c *Client) RateLimit() map[string]RateLimit { return c.calls.Limits.Snapshot() }

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
// non-nil): restcall.Caller.
func (c *Client) do(ctx context.Context, call apiCall, out any) error {
	_, err := c.calls.Do(ctx, restcall.Request{
		Method: call.method, Route: call.path, Bucket: call.bucket, Out: out, Header: call.header,
		Build: func(ctx context.Context) (*http.Request, error) { return c.newRequest(ctx, call) },
	})
	return err
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
