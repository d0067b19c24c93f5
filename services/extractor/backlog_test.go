package extractor

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// With the transformer behind, the extractor stops publishing once what
// waits for it passes its backlog (checked every markEvery lines), instead
// of putting the whole export in the RAW stream; as the transformer takes
// users, the export goes on to its end.
func TestExtractorWaitsForTheTransformer(t *testing.T) {
	ctx, js, st := startStore(t, 2*time.Minute)
	const users, backlog = 20_000, 5_000
	bz := &zipBraze{}
	for i := range users {
		bz.lines = append(bz.lines, userLine(i, 0))
	}
	cons := natsxtest.Durable(t, js, proto.StreamRaw, proto.DurableTransformerUsers, proto.SubjectRawBrazeUsers)
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

	// Nothing consumes: the extractor publishes up to its backlog (plus
	// the lines between two checks) and holds there. Lines go in packs: the
	// bound is on packs, a pack holding at most DefaultPackItems lines.
	natsxtest.SettledPending(t, ctx, cons)
	n, _ := natsxtest.StreamItems(t, ctx, js, proto.StreamRaw, proto.SubjectRawBrazeUsers, 0)
	last := uint64(n)
	select {
	case r := <-done:
		t.Fatalf("the export finished (%v) with nothing consuming it", r.err)
	default:
	}
	if limit := uint64(pipeline.Packs(backlog)*pipeline.DefaultPackItems + markEvery); last > limit || last >= users {
		t.Fatalf("%d users wait in RAW with nobody taking them, want at most %d (backlog %d + %d between checks, in packs)", last, limit, backlog, markEvery)
	}

	// The transformer takes them: the export goes on to its end.
	natsxtest.Take(t, ctx, cons, users)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.run.Exported != users {
		t.Fatalf("exported %d, want %d", r.run.Exported, users)
	}
}
