package loader_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/loader"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// imports counts the import requests Brevo accepted.
func imports(sim *brevosim.Server) int {
	n := 0
	for k, v := range sim.Requests() {
		if strings.HasPrefix(k, "POST /v3/contacts/import 2") {
			n += v
		}
	}
	return n
}

// A loader stopped while Brevo runs its import (killed, or drained for a
// deploy) leaves its messages to be delivered again with nothing recorded
// of the write. The loader that handles them finds the import recorded,
// waits for it to complete, and records the write without importing the
// rows again: Brevo sees one import, and each contact counts as created
// once.
func TestAStoppedLoadersImportIsNotRepeated(t *testing.T) {
	stoppedLoadersImport(t, false)
}

// When the recorded import did not complete (Brevo says it failed), the
// rows are imported again.
func TestAStoppedLoadersFailedImportIsMadeAgain(t *testing.T) {
	stoppedLoadersImport(t, true)
}

func stoppedLoadersImport(t *testing.T, fails bool) {
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 2 * time.Second})
	_, _, js := natsxtest.Start(t)
	var failing atomic.Value // the process Brevo says failed
	failing.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := strings.TrimPrefix(r.URL.Path, "/v3/processes/"); r.Method == http.MethodGet && id == failing.Load() {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":` + id + `,"status":"failed","name":"import_contacts"}`))
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	bc := brevo.Config{BaseURL: srv.URL + "/v3", APIKey: key}
	cfg := loader.Config{ImportThreshold: 1, FirstPoll: 20 * time.Millisecond, OtherPerHour: 1 << 30}
	first := buildLoader(t, js, bc, cfg)
	ctx := context.Background()
	if err := first.EnsureAttributes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := first.EnsureList(ctx); err != nil {
		t.Fatal(err)
	}
	batch := func() []*pipeline.Msg {
		var b []*pipeline.Msg
		for _, k := range []string{"u1", "u2", "u3"} {
			b = append(b, upsert(t, k, 7, map[string]any{"FIRSTNAME": strings.ToUpper(k)}))
		}
		return b
	}

	// The first loader stops once Brevo has accepted its import.
	stopped, stop := context.WithCancel(ctx)
	done := make(chan []error, 1)
	go func() { done <- handle(first).HandleBatch(stopped, batch()) }()
	kv, err := js.KeyValue(ctx, proto.BucketState)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var recorded []struct{ Process int64 }
	for {
		if e, err := kv.Get(ctx, "brevo.imports"); err == nil {
			if err := json.Unmarshal(e.Value(), &recorded); err != nil || len(recorded) != 1 {
				t.Fatalf("import records %s: %v", e.Value(), err)
			}
			break
		} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("no import recorded within 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	for i, err := range <-done {
		if err == nil {
			t.Fatalf("upsert %d settled by a loader stopped during its import", i)
		}
	}
	if n := imports(sim); n != 1 {
		t.Fatalf("%d imports before the redelivery, want 1", n)
	}

	// Delivered again, to another loader.
	want := 1
	if fails {
		failing.Store(strconv.FormatInt(recorded[0].Process, 10))
		want = 2 // the rows again, in an import of their own
	}
	cfg.Instance = "second"
	second := buildLoader(t, js, bc, cfg)
	if err := second.EnsureList(ctx); err != nil {
		t.Fatal(err)
	}
	again := batch()
	for i, err := range handle(second).HandleBatch(ctx, again) {
		if err != nil {
			t.Fatalf("upsert %d delivered again: %v", i, err)
		}
		if o, _ := again[i].Outcome(); o != ledger.Created {
			t.Errorf("upsert %d delivered again settled %v, want created", i, o)
		}
	}
	if n := imports(sim); n != want {
		t.Errorf("%d imports after the redelivery, want %d", n, want)
	}
	for _, k := range []string{"u1", "u2", "u3"} {
		if c, ok := sim.ContactByExtID(k); !ok || c.Attributes["FIRSTNAME"] != strings.ToUpper(k) {
			t.Errorf("contact %s: %+v, %v", k, c, ok)
		}
	}

	// Recorded now: a third delivery finds the writes applied.
	third := batch()
	for i, err := range handle(second).HandleBatch(ctx, third) {
		if o, _ := third[i].Outcome(); err != nil || o != ledger.Created {
			t.Errorf("upsert %d delivered a third time: %v, settled %v (the recorded write's outcome)", i, err, o)
		}
	}
	if n := imports(sim); n != want {
		t.Errorf("%d imports after a third delivery, want %d", n, want)
	}
}

// An import whose writes are recorded leaves no record behind: the state
// bucket keeps records only of imports a stopped loader left.
func TestImportRecordsAreForgottenOnceRecorded(t *testing.T) {
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 1})
	_, _, js := natsxtest.Start(t)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	l := buildLoader(t, js, brevo.Config{BaseURL: srv.URL + "/v3", APIKey: key},
		loader.Config{ImportThreshold: 1, FirstPoll: 20 * time.Millisecond, OtherPerHour: 1 << 30})
	ctx := context.Background()
	if err := l.EnsureList(ctx); err != nil {
		t.Fatal(err)
	}
	for v := range int64(3) {
		b := []*pipeline.Msg{upsert(t, "u1", v+1, map[string]any{"FIRSTNAME": v}), upsert(t, "u2", v+1, map[string]any{"FIRSTNAME": v})}
		for i, err := range handle(l).HandleBatch(ctx, b) {
			if err != nil {
				t.Fatalf("batch %d upsert %d: %v", v, i, err)
			}
		}
	}
	if n := imports(sim); n != 3 {
		t.Fatalf("%d imports, want 3", n)
	}
	kv, err := js.KeyValue(ctx, proto.BucketState)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "brevo.imports")
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Value()) != "[]" {
		t.Fatalf("import records after three recorded imports: %s; want none", e.Value())
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys.Keys() {
		if strings.HasPrefix(k, "brevo.imports.") {
			t.Errorf("row hashes left behind: %s", k)
		}
	}
}
