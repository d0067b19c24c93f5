package resilience

import (
	"net/http/httptest"
	"testing"

	sandboxbrevo "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

type brevoSim struct {
	srv *sandboxbrevo.Server
	url string // API root, /v3 included
	key string
}

// newBrevoSim serves the Brevo simulator over real HTTP on loopback.
func newBrevoSim(t *testing.T, rateLimit bool) *brevoSim {
	t.Helper()
	const key = "xkeysib-test"
	srv := sandboxbrevo.New(sandboxbrevo.Config{APIKey: key, RateLimit: rateLimit})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &brevoSim{srv: srv, url: ts.URL + "/v3", key: key}
}
