package stack_test

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
	"github.com/tajo-sync/tajo/tools/tajo/internal/stack"
)

// The three service binaries, as separate processes on one external NATS
// server, sync users when asked on the control subject and stop cleanly on
// SIGTERM.
func TestServicesAsProcesses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bins, err := stack.Build(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	const users = 2000
	sb, err := sandbox.Start(ctx, sandbox.Options{Users: users, Seed: 7, RateLimits: true,
		BrazeAPIKey: "braze-process-test", BrevoAPIKey: "xkeysib-process-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()

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
	// A worker without the server's credentials is refused, and says so.
	anon, err := stack.Start("transformer-without-credentials", bins[stack.Services[1]],
		[]string{"NATS_URL=" + ns.ClientURL(), "TAJO_CONFIG=" + cfg, "TAJO_HOME=" + dir, "TMPDIR=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := anon.Wait(30 * time.Second); err == nil || !strings.Contains(strings.ToLower(anon.Output()), "authorization violation") {
		t.Fatalf("a worker without credentials: exit %v, want a refusal\n%s", err, anon.Output())
	}

	// The credentials travel in NATS_URL, in the environment (never on a
	// command line, which other local users see in ps).
	env := []string{"NATS_URL=" + ns.AuthURL(), "TAJO_CONFIG=" + cfg, "TAJO_HOME=" + dir,
		"BRAZE_API_KEY=" + sb.BrazeAPIKey, "BREVO_API_KEY=" + sb.BrevoAPIKey, "TMPDIR=" + dir}
	var procs []*stack.Proc
	for _, s := range stack.Services {
		p, err := stack.Start(s, bins[s], env)
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}
	defer func() {
		for _, p := range procs {
			if err := p.Stop(30 * time.Second); err != nil {
				t.Errorf("%s: %v\n%s", p.Name, err, p.Output())
			}
		}
	}()

	nc, err := natsx.Connect(ctx, ns.ClientURL(), "process-test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	var rep proto.SyncReply
	deadline := time.Now().Add(time.Minute)
	for {
		// The extractor answers once it has connected and subscribed.
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
	t.Logf("summary: %+v", sum)
	if sum.Exported != users || sum.Failed != 0 || sum.Created == 0 {
		t.Fatalf("summary %+v: want %d exported, contacts created, none failed", sum, users)
	}
	if got := int64(len(sb.Brevo.Contacts())); got != sum.Created {
		t.Errorf("Brevo holds %d contacts, the run created %d", got, sum.Created)
	}
	if got := sum.Created + sum.DeadLettered; got != users {
		t.Errorf("created %d + dead-lettered %d = %d, want every one of the %d users", sum.Created, sum.DeadLettered, got, users)
	}
}
