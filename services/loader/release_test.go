package loader

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// While a batch waits for its import to complete (seconds to minutes on
// Brevo), it holds neither its rows' bytes nor the import's body: Brevo
// has them. The rows are imported all the same.
func TestAnImportsRowsAreLetGoWhileItRuns(t *testing.T) {
	_, _, js := natsxtest.Start(t)
	st, err := state.NewStore(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	e := newContractEnv(t, st, nil)
	rows := &Rows{}
	for i := range 50 {
		ext := fmt.Sprintf("rel-%02d", i)
		if err := rows.Add(brevo.ImportContact{ExtID: ext, Email: ext + "@example.com"}, RowMeta{Key: ext, Create: true, Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	imp := e.sinks.imports
	var held, body, waits int
	imp.waiting = func(r *Rows) {
		waits++
		for i := range r.Len() {
			if r.Row(i) != nil {
				held++
			}
		}
		body = imp.batch.Size()
	}
	for i, res := range imp.Write(context.Background(), rows) {
		if res.Err != nil || res.Import == 0 {
			t.Fatalf("row %d: %+v", i, res)
		}
	}
	if waits != 1 {
		t.Fatalf("%d imports waited for, want 1", waits)
	}
	if held != 0 {
		t.Errorf("%d of 50 rows held while their import ran, want none", held)
	}
	if body != len(`{"jsonBody":[`) {
		t.Errorf("the import's body held while it ran: %d bytes", body)
	}
	if n := len(e.sim.Contacts()); n != 50 {
		t.Errorf("Brevo holds %d contacts, want the 50 imported", n)
	}
}

// A prepared upsert's row goes to the batch's rows when it is written as
// it arrived, so the upsert, which the batch holds until the import
// completes, does not keep a second hold on it.
func TestPreparedRowsAreHeldOnlyByTheImport(t *testing.T) {
	ctx := context.Background()
	_, _, js := natsxtest.Start(t)
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	e := newContractEnv(t, st, nil)
	m, err := mapping.New(mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(ctx, js, e.client, m.Attributes(), st, Config{ImportThreshold: 2, FirstPoll: 5 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.EnsureAttributes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.EnsureList(ctx); err != nil {
		t.Fatal(err)
	}
	before := len(e.sim.Contacts())
	batch := make([]*pipeline.Msg, 30)
	for i := range batch {
		ext := fmt.Sprintf("prep-%02d", i)
		data, err := proto.Encode(&proto.ContactUpsert{V: proto.SchemaVersion, RunID: "r", Key: ext, ExtID: ext,
			Email: ext + "@example.com", Attributes: map[string]any{"FIRSTNAME": "Ada"}, SourceVersion: 1, Fingerprint: "f"})
		if err != nil {
			t.Fatal(err)
		}
		batch[i] = &pipeline.Msg{Subject: proto.SubjectOpsBrevoContactsUpsert, Header: nats.Header{}, Data: data}
		l.Prepare(batch[i])
	}
	var nprep, held, waits int
	l.sinks.imports.waiting = func(*Rows) {
		waits++
		for _, msg := range batch {
			if p, ok := msg.Prepared.(*prepared); ok {
				nprep++
				if p.row != nil {
					held++
				}
			}
		}
	}
	for i, err := range l.HandleBatch(ctx, batch) {
		if err != nil {
			t.Fatalf("upsert %d: %v", i, err)
		}
	}
	if waits != 1 || nprep != 30 {
		t.Fatalf("%d imports waited for, %d upserts prepared; want 1 and 30", waits, nprep)
	}
	if held != 0 {
		t.Errorf("%d of 30 prepared upserts held their row while the import ran, want none", held)
	}
	if n := len(e.sim.Contacts()) - before; n != 30 {
		t.Errorf("Brevo holds %d contacts, want 30", n)
	}
}
