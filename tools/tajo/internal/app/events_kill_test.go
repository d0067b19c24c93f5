package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/services/transformer"
	"github.com/tajo-sync/tajo/tools/sandbox"
	"github.com/tajo-sync/tajo/tools/sandbox/currents"
)

// gatewayProc is the gateway binary run as a process.
type gatewayProc struct {
	bin, home, natsURL, token string
	cmd                       *exec.Cmd
}

func (g *gatewayProc) start(t *testing.T) {
	t.Helper()
	g.cmd = exec.Command(g.bin, "--config", filepath.Join(g.home, "config.yaml"))
	g.cmd.Env = append(os.Environ(), "NATS_URL="+g.natsURL, "TAJO_HOME="+g.home, "TAJO_CURRENTS_TOKEN="+g.token)
	logf, err := os.OpenFile(filepath.Join(g.home, "gateway.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	g.cmd.Stdout, g.cmd.Stderr = io.Discard, logf
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

func (g *gatewayProc) kill(t *testing.T) {
	t.Helper()
	if err := g.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = g.cmd.Wait()
}

// TestGatewayKilledLosesAndDuplicatesNothing SIGKILLs the gateway process
// twice while Currents batches stream in: every batch answered 2xx reaches
// Brevo, each event once; batches not answered are re-sent by the emitter
// and arrive once too.
func TestGatewayKilledLosesAndDuplicatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a process: skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "gateway")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/tajo-sync/tajo/services/gateway/cmd/gateway").CombinedOutput(); err != nil {
		t.Fatalf("building the gateway: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	nc, err := natsx.Connect(ctx, ns.ClientURL(), "kill-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	sb, err := sandbox.Start(ctx, sandbox.Options{Users: 10, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	bv, err := brevo.New(brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	users := make([]currents.User, 40)
	for i := range users {
		users[i] = currents.User{BrazeID: fmt.Sprintf("b%02d", i), ExternalID: fmt.Sprintf("k%02d", i)}
		if _, err := bv.UpsertContact(ctx, brevo.Contact{ExtID: users[i].ExternalID}); err != nil {
			t.Fatal(err)
		}
	}

	// The workers downstream of the gateway, in this process.
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	te, err := transformer.NewEvents(js, transformer.EventsConfig{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	le, err := loader.NewEvents(ctx, js, bv, st.KeyValue(), loader.EventsConfig{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, run := range []func(context.Context) error{te.Run, le.Run} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = run(wctx) }()
	}
	t.Cleanup(func() { stop(); wg.Wait() })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "config.yaml"), []byte("connectors:\n  braze:\n    instance_url: https://rest.iad-01.braze.com\ngateway:\n  listen: "+addr+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &gatewayProc{bin: bin, home: home, natsURL: ns.AuthURL(), token: "kill-test-token"}
	g.start(t)
	t.Cleanup(func() {
		if g.cmd.ProcessState == nil {
			_ = g.cmd.Process.Kill()
			_ = g.cmd.Wait()
		}
	})

	var mu sync.Mutex
	acked := map[string]bool{}
	ackedN := 0
	progress := make(chan int, 1000)
	emitted := make(chan error, 1)
	var stats currents.Stats
	go func() {
		var err error
		stats, err = currents.Run(ctx, currents.Config{
			URL: "http://" + addr + "/v1/braze/currents", Token: g.token, Users: users, Events: 4000, Seed: 11,
			BatchSize: 50, Concurrency: 4, MaxBackoff: 200 * time.Millisecond,
			Acked: func(evs []currents.Event) {
				mu.Lock()
				for _, ev := range evs {
					acked[ev.ID] = true
				}
				ackedN += len(evs)
				n := ackedN
				mu.Unlock()
				select {
				case progress <- n:
				default:
				}
			},
		})
		emitted <- err
	}()
	// Kill at about a third and two thirds of the events, while batches
	// are in flight, and start it again.
	kills := 0
	var emitErr error
stream:
	for {
		select {
		case n := <-progress:
			if kills < 2 && n >= (kills+1)*1300 {
				g.kill(t)
				kills++
				time.Sleep(300 * time.Millisecond)
				g.start(t)
			}
		case emitErr = <-emitted:
			break stream
		}
	}
	if emitErr != nil {
		b, _ := os.ReadFile(filepath.Join(home, "gateway.log"))
		t.Fatalf("%v; the gateway's log:\n%s", emitErr, b)
	}
	t.Logf("emitter: %+v", stats)
	if stats.Events != 4000 || kills != 2 {
		t.Fatalf("%d events acknowledged, %d kills", stats.Events, kills)
	}

	count := func() int { return sb.Brevo.State().Events.Count }
	waitFor(t, 90*time.Second, "every acknowledged event in Brevo", func() bool { return count() >= len(acked) })
	time.Sleep(time.Second)
	seen := map[string]int{}
	for _, u := range users {
		c, _ := sb.Brevo.ContactByExtID(u.ExternalID)
		for _, ev := range sb.Brevo.Events(c.ID) {
			id, _ := ev.EventProperties["braze_event_id"].(string)
			seen[id]++
		}
	}
	for id := range acked {
		if seen[id] != 1 {
			t.Errorf("acknowledged event %s is in Brevo %d times", id, seen[id])
		}
	}
	if count() != len(acked) || len(seen) != len(acked) {
		t.Fatalf("Brevo holds %d events (%d distinct) for %d acknowledged", count(), len(seen), len(acked))
	}
}
