package restcall

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// NewHTTPClient returns the default client of a vendor API: dial, TLS
// handshake and response-header timeouts, TLS 1.2 minimum, proxy from the
// environment. It has no overall Timeout, because a download may stream for
// minutes: each call is bounded through its context instead.
func NewHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   16,
		ForceAttemptHTTP2:     true,
	}}
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
		return fmt.Errorf("BaseURL %q: plain http is allowed only for loopback addresses (a local sandbox); use https", raw)
	}
	return nil
}

// Loopback reports whether host is this machine: localhost or a loopback IP.
func Loopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
