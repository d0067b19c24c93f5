package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/apikeys"
	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/pkg/status"
	"github.com/tajo-sync/tajo/proto"
)

// TestStandaloneStatus runs the gateway binary's own wiring (run) against
// an embedded NATS server that holds a finished full sync, and reads
// GET /v1/connectors/braze/status with an API key: the binary answers it
// (200, not the 503 of a gateway without the pipeline) with that sync's
// figures, read from the bus.
func TestStandaloneStatus(t *testing.T) {
	e, _, js := natsxtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A finished full sync of 5 users (one malformed line), and 7 events.
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now().Add(-time.Minute).UnixMilli()
	sr := &proto.SyncRun{ID: "20260101T000000Z-abcdef", Resource: proto.ResourceUsers, Type: "full",
		Status: proto.RunCompleted, StartedAt: started, FinishedAt: started + 42_000, Exported: 4, Malformed: 1,
		Outcome: &proto.RunOutcome{Created: 2, Updated: 1, Unchanged: 1, DeadLettered: 1}}
	if err := st.PutRun(ctx, sr); err != nil {
		t.Fatal(err)
	}
	if err := st.SetLastRun(ctx, proto.ResourceUsers, sr.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.KeyValue().Put(ctx, proto.EventsProcessedKey, proto.EncodeCount(7)); err != nil {
		t.Fatal(err)
	}

	home := t.TempDir()
	keys, err := apikeys.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := keys.Create("status-test")
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cfgPath := filepath.Join(home, "config.yaml")
	// The instance is never called: there is no Braze key here.
	cfgText := fmt.Sprintf("connectors:\n  braze:\n    instance_url: https://rest.iad-01.braze.com\n"+
		"nats:\n  url: %s\ngateway:\n  listen: %s\nmetrics:\n  listen: off\n", e.ClientURL(), addr)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(config.EnvHome, home)
	t.Setenv("NATS_URL", "")
	t.Setenv("TAJO_CURRENTS_TOKEN", "currents-token-for-the-test")
	t.Setenv(config.EnvBrazeAPIKey, "")
	t.Setenv(config.EnvBrevoAPIKey, "")

	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		runErr = run(rctx, bootstrap.Flags{ConfigPath: cfgPath, Instance: "test"})
	}()
	defer func() {
		stop()
		select {
		case <-done:
			if runErr != nil {
				t.Errorf("the gateway stopped with %v", runErr)
			}
		case <-time.After(15 * time.Second):
			t.Error("the gateway did not stop within 15s")
		}
	}()

	url := "http://" + addr + "/v1/connectors/braze/status"
	var resp *http.Response
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-done:
			t.Fatalf("the gateway stopped before serving: %v", runErr)
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		if resp, err = http.DefaultClient.Do(req); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET status answered %s; want 200", resp.Status)
	}
	var got status.Status
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.UsersCount != 5 || got.EventsProcessed != 7 {
		t.Errorf("usersCount %d, eventsProcessed %d; want 5 and 7", got.UsersCount, got.EventsProcessed)
	}
	ls := got.LastSync
	if ls == nil || ls.ID != sr.ID || ls.Status != proto.RunCompleted || !ls.Done || ls.Exported != 5 ||
		ls.Created != 2 || ls.Updated != 1 || ls.Unchanged != 1 || ls.DeadLettered != 1 || ls.DurationMs != 42_000 {
		t.Errorf("lastSync %+v; want run %s completed: 5 exported, 2 created, 1 updated, 1 unchanged, 1 dead-lettered, 42 s", ls, sr.ID)
	}
	if r := got.Resources[proto.ResourceUsers]; r == nil || r.ID != sr.ID {
		t.Errorf("resources.users %+v; want run %s", r, sr.ID)
	}
	// No vendor keys here: the checks say so, without calling anyone.
	if got.Connected || !strings.Contains(got.Connection.Braze.Error, "BRAZE_API_KEY") ||
		!strings.Contains(got.Connection.Brevo.Error, "BREVO_API_KEY") {
		t.Errorf("connection %+v; want both keys reported missing", got.Connection)
	}
	if got.State == "" || len(got.Consumers) == 0 {
		t.Errorf("state %q, %d consumers; want the NATS URL and the consumers' lag", got.State, len(got.Consumers))
	}

	// Without a key: 401, as every status call.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET status without a key answered %s; want 401", r2.Status)
	}
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
