package extractor

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// With the transformer behind, the extractor stops publishing once what
// waits for it passes its backlog (checked every markEvery lines), instead
// of putting the whole export in the RAW stream; as the transformer takes
// users, the export goes on to its end.
func TestExtractorWaitsForTheTransformer(t *testing.T) {
	_, _, js := natsxtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	const users, backlog = 20_000, 5_000
	bz := &zipBraze{}
	for i := range users {
		bz.lines = append(bz.lines, userLine(i, 0))
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, proto.StreamRaw, jetstream.ConsumerConfig{
		Durable: proto.DurableTransformerUsers, FilterSubject: proto.SubjectRawBrazeUsers, AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(js, bz, st, Config{FieldsToExport: []string{"external_id"}, TempDir: t.TempDir(), Backlog: backlog,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		run *proto.SyncRun
		err error
	}
	done := make(chan result, 1)
	go func() {
		run, err := e.Sync(ctx, "full")
		done <- result{run, err}
	}()

	waiting := func() uint64 {
		t.Helper()
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.NumPending
	}
	// Nothing consumes: the extractor publishes up to its backlog (plus
	// the lines between two checks) and holds there.
	var last uint64
	for stable := 0; stable < 10; {
		time.Sleep(200 * time.Millisecond)
		if n := waiting(); n == last && n > 0 {
			stable++
		} else {
			last, stable = n, 0
		}
		select {
		case r := <-done:
			t.Fatalf("the export finished (%v) with nothing consuming it", r.err)
		default:
		}
	}
	if last > backlog+markEvery {
		t.Fatalf("%d users wait in RAW with nobody taking them, want at most %d (backlog %d + %d between checks)", last, backlog+markEvery, backlog, markEvery)
	}

	// The transformer takes them: the export goes on to its end.
	var taken int
	for taken < users {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			if err := m.Ack(); err != nil {
				t.Fatal(err)
			}
			taken++
		}
		if ctx.Err() != nil {
			t.Fatalf("took %d of %d users before the deadline", taken, users)
		}
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.run.Exported != users {
		t.Fatalf("exported %d, want %d", r.run.Exported, users)
	}
}
