package config

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// The one rule for vendor endpoints, used by config validation, `tajo
// connectors install` and `tajo connectors test` alike, so that what one
// accepts the others accept too:
//
//   - https is assumed when no scheme is given; no other scheme but http;
//   - plain http only to loopback: exactly "localhost" (any case) or a
//     literal loopback address (127.0.0.0/8, ::1), where the simulators
//     run; an API key would otherwise cross the network in clear. Names
//     under .localhost are not loopback: they are resolved by DNS;
//   - no credentials, query or fragment; a Braze instance is a host alone
//     (Braze's paths start at the root), Brevo's base may have a path (/v3);
//   - the result is scheme://host[:port][/path] with the host in lower case
//     and no trailing slash.
//
// Errors quote raw only whole (got "..."), so that a caller can recognise
// and hide a value that came from an environment variable.

// BrazeInstanceURL checks and completes a Braze REST endpoint, such as
// rest.iad-01.braze.com. "" gives "" and no error.
func BrazeInstanceURL(raw string) (string, error) {
	u, err := endpoint(raw)
	if err != nil || u == nil {
		return "", err
	}
	if strings.Trim(u.Path, "/") != "" {
		return "", fmt.Errorf("give only the host, such as rest.iad-01.braze.com: Braze's API has no base path (got %q)", raw)
	}
	u.Path, u.RawPath = "", ""
	return u.String(), nil
}

// BrevoAPIURL checks and completes Brevo's API base URL, such as
// https://api.brevo.com/v3. "" gives "" and no error.
func BrevoAPIURL(raw string) (string, error) {
	u, err := endpoint(raw)
	if err != nil || u == nil {
		return "", err
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// GatewayPublicURL checks and completes the gateway's public base URL
// (gateway.public_url), under the same rules: it carries a secret. "" gives
// "" and no error.
func GatewayPublicURL(raw string) (string, error) {
	if p, err := url.Parse(strings.TrimSpace(raw)); err == nil && strings.EqualFold(p.Scheme, "http") && p.Hostname() != "" && !IsLoopbackHost(p.Hostname()) {
		return "", fmt.Errorf("plain http would send the install's secret in clear: use https (http is accepted only for localhost and loopback addresses) (got %q)", raw)
	}
	u, err := endpoint(raw)
	if err != nil || u == nil {
		return "", err
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// IsLoopbackHost reports whether plain http may be used to host (a host
// name without port): exactly localhost, in any case, or a literal loopback
// address. It is the clients' own rule (restcall.Loopback), so that what
// validation accepts the Braze and Brevo clients accept too.
func IsLoopbackHost(host string) bool {
	return restcall.Loopback(strings.Trim(host, "[]"))
}

func endpoint(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, nil
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("not a host name or URL (got %q); example: rest.iad-01.braze.com, https://api.brevo.com/v3", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("give only the base URL: no credentials, query or fragment (got %q)", raw)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopbackHost(u.Hostname()) {
			return nil, fmt.Errorf("plain http would send the API key in clear: use https (http is accepted only for localhost and loopback addresses, where the simulators run) (got %q)", raw)
		}
	default:
		return nil, fmt.Errorf("the scheme must be https (got %q)", raw)
	}
	return u, nil
}
