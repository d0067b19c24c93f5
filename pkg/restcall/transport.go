package restcall

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// NewHTTPClient returns the default client of a vendor API: NewTransport,
// and no redirect followed (see NoRedirect). It has no overall Timeout,
// because a download may stream for minutes: each call is bounded through
// its context instead.
func NewHTTPClient() *http.Client {
	return &http.Client{Transport: NewTransport(), CheckRedirect: NoRedirect}
}

// NewTransport is the transport of a vendor API: dial, TLS handshake and
// response-header timeouts, TLS 1.2 minimum, the proxy from the environment
// except for loopback (see Proxy), and "localhost" dialed on loopback
// addresses only (see DialContext).
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 Proxy,
		DialContext:           DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   16,
		ForceAttemptHTTP2:     true,
	}
}

// Client returns hc (NewHTTPClient when nil) made to follow no redirect: a
// copy, so the caller's client is left as it was.
func Client(hc *http.Client) *http.Client {
	if hc == nil {
		return NewHTTPClient()
	}
	c := *hc
	c.CheckRedirect = NoRedirect
	return &c
}

// NoRedirect is an http.Client's CheckRedirect that follows no redirect:
// the 3xx answer itself is returned, for RedirectError. A followed redirect
// re-sends headers such as Brevo's api-key, and the body, to wherever the
// Location points, another host included.
func NoRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// ErrRedirect is wrapped by the error of a call answered with a redirect.
var ErrRedirect = errors.New("redirect refused: vendor API calls follow no redirect")

// IsRedirect reports a status that asks the client to go elsewhere.
func IsRedirect(status int) bool {
	return status >= 300 && status <= 399 && status != http.StatusNotModified
}

// RedirectError is the error of a call answered with a redirect: it names
// the target (without its query, which may be a signature) and wraps
// ErrRedirect. It is not retryable: the base URL is likely wrong.
func RedirectError(resp *http.Response) error {
	target := "no Location"
	if loc, err := resp.Location(); err == nil {
		loc.RawQuery, loc.Fragment, loc.User = "", "", nil
		target = loc.String()
	}
	return fmt.Errorf("%w: status %d to %s (check the base URL)", ErrRedirect, resp.StatusCode, target)
}

// Proxy is http.ProxyFromEnvironment, except that a loopback host (see
// Loopback) is never proxied: a call to a local sandbox must not leave the
// machine through HTTP_PROXY, in clear, with its key.
func Proxy(req *http.Request) (*url.URL, error) {
	if Loopback(req.URL.Hostname()) {
		return nil, nil
	}
	return proxyFromEnvironment(req)
}

// proxyFromEnvironment is replaced in tests: the standard library reads the
// environment once per process.
var proxyFromEnvironment = http.ProxyFromEnvironment

var dialer = &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}

// DialContext dials addr, except that "localhost" is never looked up: it is
// dialed on 127.0.0.1, then ::1. A resolver (or a hosts file) cannot then
// send a call that passed as loopback to another machine.
func DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || !strings.EqualFold(host, "localhost") {
		return dialer.DialContext(ctx, network, addr)
	}
	var errs []error
	for _, ip := range []string{"127.0.0.1", "::1"} {
		c, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip, port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// CheckBaseURL reports what is wrong with raw as the root of an API that is
// sent a key: it must be an absolute https URL (or plain http to a loopback
// address, a local sandbox) with no credentials, query or fragment. The
// error names the URL as BaseURL; callers wrap it in their own sentinel.
func CheckBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("BaseURL %q does not parse: %v", raw, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("BaseURL %q: scheme must be https (or http for a local sandbox)", raw)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("BaseURL %q: want scheme://host[:port][/path] with no credentials, query or fragment", raw)
	}
	if u.Scheme == "http" && !Loopback(u.Hostname()) {
		// The key would cross the network in clear.
		return fmt.Errorf("BaseURL %q: plain http is allowed only for loopback addresses (127.0.0.1, ::1, localhost: a local sandbox); use https", raw)
	}
	return nil
}

// Loopback reports whether host is this machine without asking a resolver:
// a loopback IP literal, or the name "localhost" itself (which DialContext
// dials on loopback). Names under .localhost are not: they are resolved by
// DNS and sent through a proxy like any other.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
