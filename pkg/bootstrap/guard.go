package bootstrap

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/restcall"
)

// GuardBraze builds the process's Braze guard (rate limits per bucket,
// circuit breakers, and the retry policy of calls no message stands behind,
// Guard.Retry) from rc and puts its limiter and breakers under every call
// of bc's client. Build one per process and share it.
func GuardBraze(rc resilience.Config, bc *braze.Config, log *slog.Logger) (*resilience.Guard, error) {
	g, err := resilience.New(resilience.VendorBraze, rc, resilience.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("resilience settings for Braze: %w", err)
	}
	tr, err := g.Transport(baseTransport(), bc.BaseURL)
	if err != nil {
		return nil, err
	}
	sayPlainHTTP(log, "Braze", bc.BaseURL)
	bc.HTTPClient = &http.Client{Transport: tr}
	bc.PacedByTransport = true
	return g, nil
}

// GuardBrevo is GuardBraze for Brevo.
func GuardBrevo(rc resilience.Config, bc *brevo.Config, log *slog.Logger) (*resilience.Guard, error) {
	g, err := resilience.New(resilience.VendorBrevo, rc, resilience.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("resilience settings for Brevo: %w", err)
	}
	base := bc.BaseURL
	if base == "" {
		base = brevo.DefaultBaseURL
	}
	tr, err := g.Transport(baseTransport(), base)
	if err != nil {
		return nil, err
	}
	sayPlainHTTP(log, "Brevo", base)
	bc.HTTPClient = &http.Client{Transport: tr}
	bc.PacedByTransport = true
	return g, nil
}

// baseTransport is what the clients use by default (restcall.NewTransport):
// TLS 1.2 at least, bounded dialing and waiting for headers (a whole export
// download is bounded by its context instead), no proxy for loopback. The
// clients add that no redirect is followed.
func baseTransport() http.RoundTripper { return restcall.NewTransport() }

// sayPlainHTTP notes a plain-http endpoint: the clients accept one only on
// loopback (a sandbox), and an operator should see that it is in use.
func sayPlainHTTP(log *slog.Logger, vendor, base string) {
	if strings.HasPrefix(base, "http://") {
		log.Warn("plain http to a loopback address (a local sandbox): allowed there only; real vendors use https with TLS 1.2+",
			"vendor", vendor, "url", base)
	}
}
