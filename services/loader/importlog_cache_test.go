package loader

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/restcall"
	"github.com/tajo-sync/tajo/pkg/state"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// A replica keeps the row hashes of another's import only while it is
// recorded: once its loader forgets it, they go from every replica's
// memory too.
func TestRowHashesGoWithTheirRecord(t *testing.T) {
	ctx := context.Background()
	_, _, js := natsxtest.Start(t)
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	a, b := newImportLog(st, restcall.SystemClock{}), newImportLog(st, restcall.SystemClock{})
	rows := func(names ...string) *Rows {
		r := &Rows{}
		for _, n := range names {
			if err := r.Add(brevo.ImportContact{ExtID: n}, RowMeta{Key: n, Version: 1}); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	if err := a.record(ctx, 7, time.Now(), rows("u1", "u2"), []int{0, 1}); err != nil {
		t.Fatal(err)
	}
	// Other rows: nothing to wait for, but the record's hashes are read.
	if got, err := b.imported(ctx, rows("u3"), nil); err != nil || got != nil {
		t.Fatalf("rows no import recorded: %v, %v", got, err)
	}
	if len(b.hashes) != 1 {
		t.Fatalf("%d imports' hashes held, want the recorded one", len(b.hashes))
	}
	if err := a.forget(ctx, []int64{7}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.imported(ctx, rows("u3"), nil); err != nil {
		t.Fatal(err)
	}
	if len(b.hashes) != 0 {
		t.Fatalf("%d imports' hashes held after the record was forgotten, want none", len(b.hashes))
	}
}

// Rows the import records cannot be read for (a server restarting) are
// retried, not imported: imported blindly, a stopped loader's rows would
// be written twice. A record whose rows are gone is read as none.
func TestRowsWaitForTheImportRecords(t *testing.T) {
	ctx := context.Background()
	e := &contractEnvLite{}
	e.start(t)
	rows := &Rows{}
	if err := rows.Add(brevo.ImportContact{ExtID: "u1", Email: "u1@example.com"}, RowMeta{Key: "u1", Version: 1}); err != nil {
		t.Fatal(err)
	}
	other := &Rows{}
	if err := other.Add(brevo.ImportContact{ExtID: "u2", Email: "u2@example.com"}, RowMeta{Key: "u2", Version: 1}); err != nil {
		t.Fatal(err)
	}
	if err := e.sink.records.record(ctx, 7, time.Now(), other, []int{0}); err != nil {
		t.Fatal(err)
	}
	kv := e.sink.records.kv
	e.sink.records.kv = unreachable{kv}
	for _, r := range e.sink.Write(ctx, rows) {
		var pe *pipeline.PermanentError
		if r.Err == nil || errors.As(r.Err, &pe) {
			t.Fatalf("a row written, or refused for good, without the import records: %+v", r)
		}
	}
	if n := e.imports(); n != 0 {
		t.Fatalf("%d imports without the import records, want none", n)
	}

	e.sink.records.kv = kv
	if err := kv.Purge(ctx, chunkKey(7, 0)); err != nil {
		t.Fatal(err)
	}
	for _, r := range e.sink.Write(ctx, rows) {
		if r.Err != nil {
			t.Fatalf("a record without its rows stopped an import: %v", r.Err)
		}
	}
	if n := e.imports(); n != 1 {
		t.Fatalf("%d imports past a record without its rows, want 1", n)
	}
}

// unreachable is a bucket whose reads time out (a server restarting).
type unreachable struct{ jetstream.KeyValue }

func (unreachable) Get(context.Context, string) (jetstream.KeyValueEntry, error) {
	return nil, nats.ErrTimeout
}

// contractEnvLite is an import sink on a real server and the simulator.
type contractEnvLite struct {
	sim  *brevosim.Server
	sink *importSink
}

func (e *contractEnvLite) start(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	_, _, jsc := natsxtest.Start(t)
	st, err := state.NewStore(ctx, jsc)
	if err != nil {
		t.Fatal(err)
	}
	e.sim = brevosim.New(brevosim.Config{APIKey: "k", ImportDelay: time.Millisecond})
	hs := httptest.NewServer(e.sim)
	t.Cleanup(hs.Close)
	client, err := brevo.New(brevo.Config{BaseURL: hs.URL + "/v3", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := Config{ListIDs: []int64{2}, Instance: "lite", ImportThreshold: 1}
	cfg.defaults()
	track := &tracker{procs: client, clock: cfg.Clock, perHour: 1 << 30, firstPoll: 5 * time.Millisecond, log: log}
	e.sink = newSinks(client, st, track, cfg, log).imports
}

// imports counts the import requests the simulator answered.
func (e *contractEnvLite) imports() int {
	n := 0
	for k, v := range e.sim.Requests() {
		if strings.HasPrefix(k, "POST /v3/contacts/import") {
			n += v
		}
	}
	return n
}
