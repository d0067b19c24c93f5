package pagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/apikeys"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/gateway"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/tools/sandbox"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// stack is what `tajo run --sandbox` runs, in this process: the sandbox,
// an embedded NATS server, every worker and the gateway on a free
// loopback port, with one API key.
type stack struct {
	sb      *sandbox.Sandbox
	natsURL string
	url     string // the gateway's
	key     string
}

func startStack(t *testing.T, opts sandbox.Options) *stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	nc, err := natsx.Connect(ctx, ns.ClientURL(), "pagetest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	log := slog.New(slog.DiscardHandler)
	a, err := app.New(ctx, app.Options{
		NC:        nc,
		Braze:     braze.Config{BaseURL: sb.BrazeURL, APIKey: sb.BrazeAPIKey},
		Brevo:     brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey},
		Mapping:   mapping.Options{Fields: mapping.DefaultFieldMapping()},
		Extractor: extractor.Config{TempDir: t.TempDir(), Poll: braze.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}},
		// The simulator's limits are off: so is the budget of import polls.
		Loader: loader.Config{FirstPoll: 100 * time.Millisecond, OtherPerHour: 1 << 20},
		Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := apikeys.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := keys.Create("pagetest")
	if err != nil {
		t.Fatal(err)
	}
	life, stop := context.WithCancel(context.Background())
	done := make(chan error, 2)
	ready := make(chan string, 1)
	go func() { done <- a.RunWorkers(life) }()
	go func() {
		done <- a.RunEvents(life, app.EventsOptions{
			Gateway: gateway.Config{Listen: "127.0.0.1:0", CurrentsToken: "pagetest-currents", Keys: keys},
			Brevo:   brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey},
			Logger:  log,
			Ready:   func(addr string) { ready <- addr },
		})
	}()
	t.Cleanup(func() {
		stop()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("stack: %v", err)
			}
		}
	})
	s := &stack{sb: sb, natsURL: ns.ClientURL(), key: key}
	select {
	case addr := <-ready:
		s.url = "http://" + addr
	case err := <-done:
		t.Fatalf("stack stopped: %v", err)
	case <-ctx.Done():
		t.Fatal("gateway not listening after 30s")
	}
	return s
}

// call makes an API call with the key and decodes the JSON answer into out
// (when not nil); it fails the test unless the status is want.
func (s *stack) call(t *testing.T, method, path, body string, want int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// status is GET /v1/connectors/braze/status, decoded.
func (s *stack) status(t *testing.T) *app.Status {
	t.Helper()
	var st app.Status
	s.call(t, "GET", "/v1/connectors/braze/status", "", http.StatusOK, &st)
	return &st
}

// sync starts a run through the API and returns its id.
func (s *stack) sync(t *testing.T, typ string) string {
	t.Helper()
	var out struct {
		RunID string `json:"runId"`
	}
	s.call(t, "POST", "/v1/connectors/braze/sync", fmt.Sprintf(`{"type":%q}`, typ), http.StatusAccepted, &out)
	return out.RunID
}

// waitFor polls cond every 100ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not after %s: %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
