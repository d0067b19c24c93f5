package ledger_test

import (
	"context"
	"sync"
	"testing"

	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/proto"
)

func open(t *testing.T) *ledger.Ledger {
	t.Helper()
	_, _, js := natsxtest.Start(t)
	l, err := ledger.Open(context.Background(), js, proto.BucketLedger)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Marks from several stages, some repeated (redeliveries) and in any
// order, tally to one final outcome per line; a line no stage settled is
// missing.
func TestTallyCountsEachLineOnce(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	const lines = 10_000 // three shards
	var exported, passed, loaded []ledger.Mark
	for i := range int64(lines) {
		exported = append(exported, ledger.Mark{Line: i, Outcome: ledger.Exported})
		switch {
		case i%10 == 0:
			passed = append(passed, ledger.Mark{Line: i, Outcome: ledger.Unchanged})
		case i == 4097 || i == 9999:
			// published by the transformer, never settled by the loader
			passed = append(passed, ledger.Mark{Line: i, Outcome: ledger.Passed})
		case i%10 == 1:
			passed = append(passed, ledger.Mark{Line: i, Outcome: ledger.DeadLettered})
		default:
			loaded = append(loaded, ledger.Mark{Line: i, Outcome: ledger.Created, Flags: flagsOf(i)})
		}
	}
	// The loader's first delivery of a line was written; its redelivery
	// found the content applied: still one created line.
	redelivered := []ledger.Mark{{Line: 2, Outcome: ledger.Unchanged}, {Line: 3, Outcome: ledger.Unchanged}}
	for _, m := range []struct {
		stage string
		ms    []ledger.Mark
	}{{"loader", loaded}, {"extractor", exported}, {"transformer", passed}, {"loader", redelivered}, {"extractor", exported}} {
		if err := l.Mark(ctx, "run-1", m.stage, m.ms); err != nil {
			t.Fatal(err)
		}
	}
	tl, err := l.Tally(ctx, "run-1", lines, "extractor", "transformer", "loader")
	if err != nil {
		t.Fatal(err)
	}
	if got := tl.ByOutcome[ledger.Unchanged]; got != 1000 {
		t.Errorf("unchanged %d, want 1000", got)
	}
	if got := tl.ByOutcome[ledger.DeadLettered]; got != 1000 {
		t.Errorf("dead-lettered %d, want 1000", got)
	}
	if got := tl.ByOutcome[ledger.Created]; got != lines-2000-2 {
		t.Errorf("created %d, want %d", got, lines-2000-2)
	}
	if tl.Missing != 2 || len(tl.MissingLines) != 2 || tl.MissingLines[0] != 4097 || tl.MissingLines[1] != 9999 {
		t.Errorf("missing %d %v, want lines 4097 and 9999", tl.Missing, tl.MissingLines)
	}
	if tl.WithoutSMS == 0 || tl.WithoutSMS != count(loaded, ledger.WithoutSMS) {
		t.Errorf("without SMS %d, want %d", tl.WithoutSMS, count(loaded, ledger.WithoutSMS))
	}
	var sum int64
	for _, n := range tl.ByOutcome {
		sum += n
	}
	if sum != lines {
		t.Errorf("outcomes add up to %d lines, want %d", sum, lines)
	}
	// A run with lines no stage ever marked: they are missing too.
	tl, err = l.Tally(ctx, "run-1", lines+5, "extractor", "transformer", "loader")
	if err != nil {
		t.Fatal(err)
	}
	if tl.Missing != 7 {
		t.Errorf("missing %d with 5 unmarked lines, want 7", tl.Missing)
	}
}

func flagsOf(i int64) ledger.Flags {
	if i%7 == 0 {
		return ledger.WithoutSMS
	}
	return 0
}

func count(ms []ledger.Mark, f ledger.Flags) int64 {
	var n int64
	for _, m := range ms {
		if m.Flags&f != 0 {
			n++
		}
	}
	return n
}

// Replicas of a stage mark one shard at once: no mark is lost.
func TestConcurrentMarks(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := int64(w); i < 2000; i += 4 {
				if err := l.Mark(ctx, "r", "loader", []ledger.Mark{{Line: i, Outcome: ledger.Updated}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	tl, err := l.Tally(ctx, "r", 2000, "loader")
	if err != nil {
		t.Fatal(err)
	}
	if tl.ByOutcome[ledger.Updated] != 2000 || tl.Missing != 0 {
		t.Fatalf("updated %d, missing %d; want 2000 and 0", tl.ByOutcome[ledger.Updated], tl.Missing)
	}
}

func TestPruneKeepsOnlyNamedRuns(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	for _, run := range []string{"old", "prev", "cur"} {
		if err := l.Mark(ctx, run, "loader", []ledger.Mark{{Line: 1, Outcome: ledger.Created}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Prune(ctx, "prev", "cur"); err != nil {
		t.Fatal(err)
	}
	for run, want := range map[string]int64{"old": 0, "prev": 1, "cur": 1} {
		tl, err := l.Tally(ctx, run, 2, "loader")
		if err != nil {
			t.Fatal(err)
		}
		if got := tl.ByOutcome[ledger.Created]; got != want {
			t.Errorf("run %s after pruning: %d created, want %d", run, got, want)
		}
	}
}

// A cursor reads each line's merged outcome across stages, shard by shard.
func TestCursorReadsMergedOutcomes(t *testing.T) {
	ctx := context.Background()
	l := open(t)
	const lines = 9000
	var ex, ld []ledger.Mark
	for i := range int64(lines) {
		ex = append(ex, ledger.Mark{Line: i, Outcome: ledger.Exported})
		if i%3 == 0 {
			ld = append(ld, ledger.Mark{Line: i, Outcome: ledger.Updated, Flags: ledger.Flags(i % 2)})
		}
	}
	if err := l.Mark(ctx, "r", "extractor", ex); err != nil {
		t.Fatal(err)
	}
	if err := l.Mark(ctx, "r", "loader", ld); err != nil {
		t.Fatal(err)
	}
	c := l.Cursor("r", "extractor", "loader")
	for i := range int64(lines) {
		o, f, err := c.At(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		wantO, wantF := ledger.Exported, ledger.Flags(0)
		if i%3 == 0 {
			wantO, wantF = ledger.Updated, ledger.Flags(i%2)
		}
		if o != wantO || f != wantF {
			t.Fatalf("line %d: %v/%d, want %v/%d", i, o, f, wantO, wantF)
		}
	}
	if o, _, err := c.At(ctx, lines+5000); err != nil || o != ledger.None {
		t.Fatalf("a line past the end: %v, %v; want none", o, err)
	}
}
