//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/tools/sandbox"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
	"github.com/tajo-sync/tajo/tools/tajo/internal/chaos"
	"github.com/tajo-sync/tajo/tools/tajo/internal/stack"
)

// binary is $env, else bin/name at the repository root (where make puts it).
func binary(t *testing.T, env, name string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", "..", "..", "..", "bin", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s not found (%v): run `make e2e`, which builds it, or set %s", p, err, env)
	}
	return p
}

// One user's trace runs from the extractor's export through the
// transformer and the loader to the Brevo request, across three processes,
// in a real Jaeger.
func TestOneTracePerUser(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	dir := t.TempDir()

	jaeger, err := StartJaeger(ctx, binary(t, "TAJO_JAEGER", "jaeger"), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := jaeger.Stop(); err != nil {
			t.Logf("stopping jaeger: %v", err)
		}
	}()
	ns, err := chaos.StartNATSServer(ctx, binary(t, "TAJO_NATS_SERVER", "nats-server"), filepath.Join(dir, "nats", "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Stop()

	bins, err := stack.Build(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	const users = 300
	sb, err := sandbox.Start(ctx, sandbox.Options{Users: users, Seed: 11,
		BrazeAPIKey: "braze-e2e", BrevoAPIKey: "xkeysib-e2e"})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	cfg := filepath.Join(dir, "tajo.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `connectors:
  braze:
    instance_url: %s
    sync:
      users: {interval: 1h}
  brevo:
    api_url: %s
`, sb.BrazeURL, sb.BrevoURL), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"NATS_URL=" + ns.AuthURL(), "TAJO_CONFIG=" + cfg, "TAJO_HOME=" + dir, "TMPDIR=" + dir,
		"BRAZE_API_KEY=" + sb.BrazeAPIKey, "BREVO_API_KEY=" + sb.BrevoAPIKey,
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + jaeger.OTLPEndpoint(), "OTEL_BSP_SCHEDULE_DELAY=200"}
	var procs []*stack.Proc
	for _, s := range stack.Services {
		p, err := stack.Start(s, bins[s], env)
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}
	stopped := false
	stopAll := func() {
		if stopped {
			return
		}
		stopped = true
		// SIGTERM: each process flushes its spans before it exits.
		for _, p := range procs {
			if err := p.Stop(30 * time.Second); err != nil {
				t.Errorf("%s: %v\n%s", p.Name, err, p.Output())
			}
		}
	}
	defer stopAll()

	nc, err := natsx.Connect(ctx, ns.AuthURL(), "e2e")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var rep proto.SyncReply
	for deadline := time.Now().Add(time.Minute); ; {
		m, err := nc.Request(proto.SubjectSyncRequest, []byte(`{"type":"full"}`), time.Second)
		if err == nil {
			if err := json.Unmarshal(m.Data, &rep); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no extractor answered on %s: %v\n%s", proto.SubjectSyncRequest, err, procs[0].Output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if rep.Error != "" || rep.RunID == "" {
		t.Fatalf("sync request: %+v", rep)
	}
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := app.Wait(ctx, js, st, rep.RunID, 0, nil)
	if err != nil {
		for _, p := range procs {
			t.Logf("%s output:\n%s", p.Name, p.Output())
		}
		t.Fatal(err)
	}
	if sum.Exported != users || sum.Created == 0 {
		t.Fatalf("summary %+v: want %d exported and contacts created", sum, users)
	}
	stopAll()

	// The loader's traces: find one holding a span of every stage and the
	// Brevo call, all of one user (one line of the run).
	var found *Trace
	var lastErr error
	for deadline := time.Now().Add(time.Minute); found == nil && time.Now().Before(deadline); time.Sleep(time.Second) {
		traces, err := jaeger.Traces(ctx, "loader", 1000)
		if err != nil {
			lastErr = err
			continue
		}
		for i := range traces {
			if whyNot := oneUser(traces[i], rep.RunID); whyNot == "" {
				found = &traces[i]
				break
			} else {
				lastErr = fmt.Errorf("trace %s: %s", traces[i].TraceID, whyNot)
			}
		}
	}
	if found == nil {
		t.Fatalf("no trace in Jaeger runs extractor -> transformer -> loader -> Brevo for one user; last: %v\njaeger:\n%s", lastErr, jaeger.Output())
	}
	fmt.Printf("e2e: trace %s runs extractor -> transformer -> loader -> Brevo (%d spans); see /trace/%s in Jaeger's UI\n",
		found.TraceID, len(found.Spans), found.TraceID)
}

// oneUser says why tr is not one user's trace through every stage to a
// Brevo call, or "" when it is.
func oneUser(tr Trace, runID string) string {
	byService := map[string][]Span{}
	for _, s := range tr.Spans {
		byService[tr.Processes[s.ProcessID].ServiceName] = append(byService[tr.Processes[s.ProcessID].ServiceName], s)
	}
	var root Span
	for _, s := range byService["extractor"] {
		if strings.HasPrefix(s.OperationName, "extractor publish") {
			root = s
		}
	}
	if root.SpanID == "" || root.Tag("tajo.braze_id") == "" || root.Tag("tajo.run_id") != runID {
		return "no extractor publish span of the run with a braze_id"
	}
	line := root.Tag("tajo.line")
	for _, stage := range []string{"transformer", "loader"} {
		ok := false
		for _, s := range byService[stage] {
			if s.Tag("tajo.line") == line && s.Tag("tajo.run_id") == runID {
				ok = true
			}
		}
		if !ok {
			return fmt.Sprintf("no %s span of line %s", stage, line)
		}
	}
	for _, s := range byService["loader"] {
		if strings.HasPrefix(s.OperationName, "brevo POST /contacts") && s.Tag("http.response.status_code") != "" {
			return ""
		}
	}
	return "no Brevo contact write in it"
}
