package natsx

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Reconnect and connect backoff bounds.
const (
	backoffInitial = 250 * time.Millisecond
	backoffMax     = 10 * time.Second
	// reconnectBufSize is how much a publisher may buffer while the
	// connection is down before Publish fails.
	reconnectBufSize = 32 << 20
)

// Connect dials url (one URL or a comma-separated list) with the client
// name, retrying with backoff until it succeeds or ctx is done. Once
// connected the connection reconnects forever with jittered backoff.
// Options in opts are applied after the defaults and override them.
// Errors name the URL with any credentials removed.
//
// Authentication: credentials in url win; else, for the address of an
// embedded server this process started, that server's own; else
// NATS_CREDS, NATS_NKEY or NATS_USER (and NATS_PASSWORD). NATS_CA, and
// NATS_CERT with NATS_KEY, configure TLS. See the Env constants.
func Connect(ctx context.Context, url, name string, opts ...nats.Option) (*nats.Conn, error) {
	auth, err := authOptions(url)
	if err != nil {
		return nil, fmt.Errorf("connecting to nats at %s as %q: %w", RedactURL(url), name, err)
	}
	base := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(reconnectDelay),
		nats.ReconnectBufSize(reconnectBufSize),
		nats.Timeout(5 * time.Second),
		nats.PingInterval(20 * time.Second),
		nats.MaxPingsOutstanding(3),
		nats.DrainTimeout(30 * time.Second),
	}
	all := append(append(base, auth...), opts...)
	for attempt := 1; ; attempt++ {
		nc, err := nats.Connect(url, all...)
		if err == nil {
			return nc, nil
		}
		if refused(err) {
			// Waiting will not make wrong credentials right.
			return nil, fmt.Errorf("connecting to nats at %s as %q: %w (set the credentials in the URL, %s, or %s)",
				RedactURL(url), name, err, EnvCreds, EnvUser)
		}
		t := time.NewTimer(reconnectDelay(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("connecting to nats at %s as %q (%d attempts): %w (last error: %v)",
				RedactURL(url), name, attempt, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// refused reports a server that turned the client's credentials down.
func refused(err error) bool {
	return errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) ||
		errors.Is(err, nats.ErrAuthRevoked) || errors.Is(err, nats.ErrPermissionViolation)
}

// reconnectDelay is exponential from backoffInitial to backoffMax with
// +-20% jitter, so a fleet does not reconnect in lockstep.
func reconnectDelay(attempt int) time.Duration {
	d := backoffInitial
	for i := 1; i < attempt && d < backoffMax; i++ {
		d *= 2
	}
	d = min(d, backoffMax)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// RedactURL removes user information from every URL of a comma-separated
// list, so it can be logged or put in an error.
func RedactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		u, err := url.Parse(p)
		if err != nil {
			if at := strings.LastIndex(p, "@"); at >= 0 {
				p = "redacted@" + p[at+1:]
			}
			parts[i] = p
			continue
		}
		if u.User != nil {
			u.User = url.User("redacted")
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}
