package app_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/tools/sandbox"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// The harness the end-to-end tests share: the simulators, a logger, the
// app options they start from and the workers' run. The NATS server and
// connections come from pkg/natsx/natsxtest.

// startSandbox starts the Braze and Brevo simulators until the test ends.
func startSandbox(t *testing.T, ctx context.Context, o sandbox.Options) *sandbox.Sandbox {
	t.Helper()
	sb, err := sandbox.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb
}

// vendorConfigs are the clients' configs for the simulators.
func vendorConfigs(sb *sandbox.Sandbox) (braze.Config, brevo.Config) {
	return braze.Config{BaseURL: sb.BrazeURL, APIKey: sb.BrazeAPIKey}, brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey}
}

// testLogger discards the app's logs, or with -v writes those at level
// and above to the test's log.
func testLogger(t *testing.T, level slog.Level) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// baseOptions are the app options the tests start from: the simulators,
// the default field mapping, and an extractor and a loader that poll
// Braze's export and Brevo's imports quickly.
func baseOptions(t *testing.T, sb *sandbox.Sandbox, nc *nats.Conn, log *slog.Logger) app.Options {
	bz, bv := vendorConfigs(sb)
	return app.Options{
		NC:        nc,
		Braze:     bz,
		Brevo:     bv,
		Mapping:   mapping.Options{Fields: mapping.DefaultFieldMapping()},
		Extractor: extractor.Config{TempDir: t.TempDir(), Poll: braze.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}},
		Loader:    loader.Config{FirstPoll: 100 * time.Millisecond},
		Logger:    log,
	}
}

// runWorkers runs a's workers until the test ends, and fails the test if
// they end with an error.
func runWorkers(t *testing.T, a *app.App) {
	done := make(chan error, 1)
	wctx, stop := context.WithCancel(context.Background())
	go func() { done <- a.RunWorkers(wctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("workers: %v", err)
		}
	})
}
