//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/loader"
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
// in a real Jaeger; and a Currents event's, from its sender's traceparent
// through the gateway process, the transformer and the loader to the Brevo
// events call.
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
	gwBin, err := stack.BuildService(ctx, dir, stack.Gateway)
	if err != nil {
		t.Fatal(err)
	}
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	gwAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	cfg := filepath.Join(dir, "tajo.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `connectors:
  braze:
    instance_url: %s
    sync:
      users: {interval: 1h}
  brevo:
    api_url: %s
gateway:
  listen: %s
`, sb.BrazeURL, sb.BrevoURL, gwAddr), 0o600); err != nil {
		t.Fatal(err)
	}
	const currentsToken = "e2e-currents-token"
	env := []string{"NATS_URL=" + ns.AuthURL(), "TAJO_CONFIG=" + cfg, "TAJO_HOME=" + dir, "TMPDIR=" + dir,
		"BRAZE_API_KEY=" + sb.BrazeAPIKey, "BREVO_API_KEY=" + sb.BrevoAPIKey, "TAJO_CURRENTS_TOKEN=" + currentsToken,
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + jaeger.OTLPEndpoint(), "OTEL_BSP_SCHEDULE_DELAY=200"}
	var procs []*stack.Proc
	for _, s := range stack.Services {
		p, err := stack.Start(s, bins[s], env)
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}
	gw, err := stack.Start(stack.Gateway, gwBin, env)
	if err != nil {
		t.Fatal(err)
	}
	procs = append(procs, gw)
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
	js, err := natsx.JetStream(nc)
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
	// A Currents batch its sender traces, through the gateway process.
	eventTrace, callerSpan := sendTracedEvent(ctx, t, "http://"+gwAddr, currentsToken, sb)
	waitEvent(ctx, t, st, procs)
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

	// The event's trace: its sender's, through the gateway, the
	// transformer and the loader to the Brevo events call.
	var whyNot string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		tr, err := jaeger.Trace(ctx, eventTrace)
		if err != nil {
			whyNot = err.Error()
		} else if whyNot = oneEvent(tr, callerSpan); whyNot == "" {
			fmt.Printf("e2e: trace %s runs the sender -> gateway -> transformer -> loader -> Brevo POST /events/batch (%d spans)\n",
				eventTrace, len(tr.Spans))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Currents event's trace %s: %s\njaeger:\n%s", eventTrace, whyNot, jaeger.Output())
		}
	}
}

// sendTracedEvent posts one Currents event for a contact it creates, with
// a traceparent of its own, until the gateway answers 200; it returns the
// trace and span ids it sent.
func sendTracedEvent(ctx context.Context, t *testing.T, gateway, token string, sb *sandbox.Sandbox) (string, string) {
	t.Helper()
	bv, err := brevo.New(brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bv.UpsertContact(ctx, brevo.Contact{ExtID: "user_e2e_traced", Email: "traced@example.com"}); err != nil {
		t.Fatal(err)
	}
	traceID, spanID := make([]byte, 16), make([]byte, 8)
	_, _ = rand.Read(traceID)
	_, _ = rand.Read(spanID)
	tid, sid := hex.EncodeToString(traceID), hex.EncodeToString(spanID)
	body := `{"events":[{"event_type":"users.messages.email.Open","id":"e2e-traced-1","time":1700000000,"user":{"external_user_id":"user_e2e_traced"}}]}`
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		req, err := http.NewRequestWithContext(ctx, "POST", gateway+"/v1/braze/currents", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("traceparent", "00-"+tid+"-"+sid+"-01")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return tid, sid
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not take the Currents batch: %v", err)
		}
	}
}

// waitEvent waits until the loader wrote the event to Brevo.
func waitEvent(ctx context.Context, t *testing.T, st *state.Store, procs []*stack.Proc) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if n, err := loader.EventsProcessed(ctx, st.KeyValue()); err == nil && n >= 1 {
			return
		}
		if time.Now().After(deadline) {
			for _, p := range procs {
				t.Logf("%s output:\n%s", p.Name, p.Output())
			}
			t.Fatal("the Currents event was not written to Brevo within a minute")
		}
	}
}

// oneEvent says why tr is not the traced Currents event's way through
// every process to the Brevo events call, or "" when it is.
func oneEvent(tr Trace, callerSpan string) string {
	has := map[string]bool{}
	for _, s := range tr.Spans {
		svc := tr.Processes[s.ProcessID].ServiceName
		switch {
		case svc == "gateway" && s.OperationName == "gateway POST /v1/braze/currents":
			for _, r := range s.References {
				if r.RefType == "CHILD_OF" && r.SpanID == callerSpan {
					has["gateway"] = true
				}
			}
		case svc == "transformer" && s.OperationName == proto.StageTransformer+" "+proto.SubjectRawBrazeEvents:
			has["transformer"] = true
		case svc == "loader" && s.OperationName == proto.StageLoader+" "+proto.SubjectOpsBrevoEvents:
			has["loader"] = true
		case svc == "loader" && s.OperationName == "brevo POST /events/batch" && s.Tag("http.response.status_code") != "":
			has["brevo"] = true
		}
	}
	for _, want := range []string{"gateway", "transformer", "loader", "brevo"} {
		if !has[want] {
			return fmt.Sprintf("no %s span in it (%d spans; has %v)", want, len(tr.Spans), has)
		}
	}
	return ""
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
