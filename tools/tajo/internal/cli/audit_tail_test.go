package cli

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/audit"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
)

// auditSample is three calls of one run: a success, a throttled retry and
// a call that got no answer.
func auditSample() []audit.Entry {
	t0 := time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)
	run := "20260314T092650Z-c0ffee"
	return []audit.Entry{
		{Time: t0, Vendor: "braze", Method: "GET", Path: "/segments/list", Status: 200,
			Duration: 12_345 * time.Microsecond, Attempt: 1, RunID: run, Service: "extractor"},
		{Time: t0.Add(time.Second), Vendor: "brevo", Method: "POST", Path: "/contacts/import", Status: 429,
			Duration: 812 * time.Microsecond, Attempt: 2, RunID: run, Service: "loader", ErrorClass: audit.ClassRateLimited},
		{Time: t0.Add(2 * time.Second), Vendor: "brevo", Method: "GET", Path: "/processes/{id}", Status: 0,
			Duration: 30 * time.Second, Attempt: 1, Service: "loader", ErrorClass: audit.ClassTimeout},
	}
}

// recordAll publishes entries through a Recorder on the server at url.
func recordAll(t *testing.T, url string, entries []audit.Entry) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := natsx.Connect(ctx, url, "test-recorder")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{}); err != nil {
		t.Fatal(err)
	}
	rec := audit.New(js, audit.Options{})
	for _, e := range entries {
		rec.Record(e)
	}
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func runTajo(ctx context.Context, args ...string) (string, string, error) {
	var out, errOut lockedBuffer
	root := NewRoot("test")
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func auditEnv(t *testing.T, natsURL string) string {
	home := t.TempDir()
	t.Setenv("TAJO_HOME", home)
	t.Setenv("TAJO_CONFIG", "")
	t.Setenv("NATS_URL", natsURL)
	return home
}

func TestAuditTailGolden(t *testing.T) {
	e := natsxtest.Server(t)
	auditEnv(t, e.ClientURL())
	recordAll(t, e.ClientURL(), auditSample())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, tt := range []struct {
		name string
		args []string
	}{
		{"audit_tail.golden", []string{"audit", "tail"}},
		{"audit_tail_n2.golden", []string{"audit", "tail", "-n", "2"}},
		{"audit_tail_json.golden", []string{"audit", "tail", "--json"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runTajo(ctx, tt.args...)
			if err != nil {
				t.Fatalf("%v\nstderr: %s", err, errOut)
			}
			golden(t, tt.name, []byte(out))
		})
	}
}

func TestAuditTailFollow(t *testing.T) {
	e := natsxtest.Server(t)
	auditEnv(t, e.ClientURL())
	sample := auditSample()
	recordAll(t, e.ClientURL(), sample[:1])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fctx, stop := context.WithCancel(ctx)
	var out lockedBuffer
	done := make(chan error, 1)
	go func() {
		root := NewRoot("test")
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs([]string{"audit", "tail", "-f", "-n", "1"})
		done <- root.ExecuteContext(fctx)
	}()
	waitFor(t, &out, "/segments/list", 10*time.Second)
	recordAll(t, e.ClientURL(), sample[1:])
	waitFor(t, &out, "/processes/{id}", 10*time.Second)
	stop() // Ctrl-C
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("tail -f stopped with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tail -f did not stop on cancel")
	}
	if n := strings.Count(out.String(), "\n"); n != 4 { // header and three calls
		t.Errorf("followed output has %d lines:\n%s", n, out.String())
	}
}

// TestAuditTailLocalStore reads the store a finished tajo run left behind,
// with no server running: the command opens it itself.
func TestAuditTailLocalStore(t *testing.T) {
	home := auditEnv(t, "")
	store := filepath.Join(home, "nats")
	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: store})
	if err != nil {
		t.Fatal(err)
	}
	recordAll(t, srv.ClientURL(), auditSample())
	srv.Shutdown()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, errOut, err := runTajo(ctx, "audit", "tail", "-n", "1")
	if err != nil {
		t.Fatalf("%v\nstderr: %s", err, errOut)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "/processes/{id}") {
		t.Errorf("last call from the local store:\n%s", out)
	}

	_, _, err = runTajo(ctx, "audit", "tail", "-f")
	if err == nil || !strings.Contains(err.Error(), "tajo run") {
		t.Errorf("-f on a store nobody runs: %v, want advice to start tajo run", err)
	}
}

func TestAuditTailNothingYet(t *testing.T) {
	e := natsxtest.Server(t)
	auditEnv(t, e.ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, err := runTajo(ctx, "audit", "tail")
	if !errors.Is(err, audit.ErrNoAuditStream) || !strings.Contains(err.Error(), "tajo run") {
		t.Errorf("no AUDIT stream: %v", err)
	}
	recordAll(t, e.ClientURL(), nil)
	out, errOut, err := runTajo(ctx, "audit", "tail")
	if err != nil || !strings.Contains(errOut, "No vendor API calls recorded yet") {
		t.Errorf("empty stream: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}
}
