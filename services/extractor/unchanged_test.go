package extractor

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/kvmap"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/linediff"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/proto"
)

// zipBraze is Braze at the edge: each export is the zip of the lines set
// last.
type zipBraze struct{ lines []string }

func (z *zipBraze) FindSegment(context.Context, string) (braze.Segment, error) {
	return braze.Segment{ID: "all", Name: "All Users"}, nil
}

func (z *zipBraze) ExportSegment(context.Context, braze.ExportSegmentRequest) (braze.ExportSegmentResult, error) {
	return braze.ExportSegmentResult{URL: "https://export.invalid/x.zip"}, nil
}

func (z *zipBraze) WaitExport(_ context.Context, _ string, open func() (io.WriteCloser, error), _ braze.Backoff) (int64, error) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create("part-0.txt")
	if err != nil {
		return 0, err
	}
	io.WriteString(w, strings.Join(z.lines, "\n")+"\n")
	if err := zw.Close(); err != nil {
		return 0, err
	}
	f, err := open()
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := f.Write(b.Bytes())
	return int64(n), err
}

func userLine(i, version int) string {
	return fmt.Sprintf(`{"braze_id":"b%04d","external_id":"u%04d","first_name":"v%d"}`, i, i, version)
}

// An incremental run publishes only the lines that changed since the run
// before, when that run settled them cleanly and the digest is the same.
func TestIncrementalRunSkipsUnchangedLines(t *testing.T) {
	ctx, js, st := startStore(t, time.Minute)
	bz := &zipBraze{}
	const users = 5000 // two ledger shards
	for i := range users {
		bz.lines = append(bz.lines, userLine(i, 0))
	}
	bz.lines = append(bz.lines, `{"no_id":true}`) // dead-lettered every time: no entry
	// Lines that name no user, in the middle: numbered (dead-lettered) or
	// not (empty), the numbering of the lines after them must agree
	// between the comparison and the publication.
	bad := []string{"not json", "", `{"no_id":true}`}
	newExtractor := func(digest string) *Extractor {
		e, err := New(js, bz, st, Config{FieldsToExport: []string{"external_id"}, TempDir: t.TempDir(), Digest: digest,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	var seen uint64 // RAW's last sequence read
	published := func() uint64 {
		t.Helper()
		var n int
		n, seen = natsxtest.StreamItems(t, ctx, js, proto.StreamRaw, proto.SubjectRawBrazeUsers, seen)
		return uint64(n)
	}
	// settle plays the downstream stages: every line published is
	// written, but line 7 is written without its email (a flag), line 9
	// is dead-lettered for its own content, and line 11 for an email
	// another user holds (contested). The lines the extractor
	// dead-lettered (naming no user) go no further. Lines are the
	// export's; a full run numbers them in key order (fullRunNumbers).
	settle := func(run *proto.SyncRun) {
		t.Helper()
		num := fullRunNumbers(t, bz.lines)
		var ms []ledger.Mark
		extracted := newLedger(t, js).Cursor(run.ID, proto.StageExtractor)
		for i := range run.Exported + run.Malformed {
			if o, _, err := extracted.At(ctx, i); err != nil || o == ledger.DeadLettered {
				if err != nil {
					t.Fatal(err)
				}
				continue
			}
			m := ledger.Mark{Line: i, Outcome: ledger.Updated}
			switch i {
			case num[7]:
				m.Flags = ledger.WithoutEmail
			case num[9]:
				m.Outcome = ledger.DeadLettered
			case num[11]:
				m.Outcome, m.Flags = ledger.DeadLettered, ledger.Contested
			}
			ms = append(ms, m)
		}
		if err := newLedger(t, js).Mark(ctx, run.ID, proto.StageLoader, ms); err != nil {
			t.Fatal(err)
		}
	}
	sync := func(e *Extractor, typ string) *proto.SyncRun {
		t.Helper()
		run, err := e.Sync(ctx, typ)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(len(bz.lines) - 1 - len(bad)); run.Exported != want || run.Malformed != 3 {
			t.Fatalf("%s run exported %d, malformed %d; want %d and 3", typ, run.Exported, run.Malformed, want)
		}
		return run
	}

	bz.lines = slices.Insert(bz.lines, 1500, bad...)
	e := newExtractor("mapping-1")
	full := sync(e, "full")
	if n := published(); n != users || full.Skipped != 0 {
		t.Fatalf("the full run published %d lines and skipped %d, want every one of %d", n, full.Skipped, users)
	}
	settle(full)

	// Three users change, one is new; lines 7 (flagged) and 11 (a
	// contested dead letter) were not settled cleanly and are published
	// again. Line 9, dead-lettered for what it holds, would only be
	// dead-lettered again: it is not published, and counts as
	// dead-lettered in this run too (no second letter in the DLQ).
	for _, i := range []int{100, 2000, 4999} {
		at := i
		if i >= 1500 {
			at += len(bad)
		}
		bz.lines[at] = userLine(i, 1)
	}
	n := len(bz.lines)
	bz.lines = append(bz.lines[:n-1:n-1], userLine(users, 0), bz.lines[n-1])
	lettersBefore := letters(t, ctx, js)
	inc := sync(newExtractor("mapping-1"), "incremental")
	wantPublished := uint64(3 + 1 + 2)
	if n := published(); n != wantPublished || inc.Skipped != int64(users+1)-int64(wantPublished) {
		t.Fatalf("the incremental run published %d lines and skipped %d; want %d published", n, inc.Skipped, wantPublished)
	}
	tl, err := newLedger(t, js).Tally(ctx, inc.ID, inc.Exported+inc.Malformed, settledStages...)
	if err != nil {
		t.Fatal(err)
	}
	// Dead-lettered: line 9 and the lines naming no user (malformed).
	// "not json" is as it was: not dead-lettered again (no second
	// letter). The two {"no_id":true} lines are the same bytes: their
	// entries are not unique, so they are compared with nothing and
	// dead-lettered again, in one letter (a run's letters of the same
	// bytes are one message).
	if n := letters(t, ctx, js) - lettersBefore; n != 1 {
		t.Errorf("the incremental run filed %d letters, want 1 (the repeated line naming no user; not \"not json\", as it was)", n)
	}
	if tl.ByOutcome[ledger.Unchanged] != inc.Skipped-1 || tl.ByOutcome[ledger.DeadLettered] != 1+inc.Malformed || tl.ByOutcome[ledger.Exported] != int64(wantPublished) {
		t.Fatalf("ledger: %d unchanged, %d dead-lettered, %d exported; want %d, %d and %d", tl.ByOutcome[ledger.Unchanged],
			tl.ByOutcome[ledger.DeadLettered], tl.ByOutcome[ledger.Exported], inc.Skipped-1, 1+inc.Malformed, wantPublished)
	}
	if o, _, err := newLedger(t, js).Cursor(inc.ID, settledStages...).At(ctx, 9); err != nil || o != ledger.DeadLettered {
		t.Fatalf("line 9 in the incremental run's ledger: %v (%v), want dead-lettered", o, err)
	}

	// A skipped line stays skippable: the next run's base is this one,
	// whose ledger says unchanged. Its published lines were never settled
	// here, so they go again.
	next := sync(newExtractor("mapping-1"), "incremental")
	if n := published(); n != wantPublished {
		t.Fatalf("the next incremental run published %d lines, want the %d the last one left unsettled", n, wantPublished)
	}
	settleAll(t, js, next, users+1)

	// Another mapping: every line is published.
	other := sync(newExtractor("mapping-2"), "incremental")
	if n := published(); n != users+1 || other.Skipped != 0 {
		t.Fatalf("after the digest changed, the run published %d lines and skipped %d; want all %d", n, other.Skipped, users+1)
	}
	settleAll(t, js, other, users+1)

	// A full run publishes every line whatever changed.
	if n, run := published(), sync(newExtractor("mapping-2"), "full"); run.Skipped != 0 {
		t.Fatalf("a full run skipped %d lines (%d published)", run.Skipped, n)
	}
	if n := published(); n != users+1 {
		t.Fatalf("the full run published %d lines, want %d", n, users+1)
	}
}

// fullRunNumbers maps the number of each export line (counting every line
// but the empty ones, as an incremental run numbers them) to its number in
// a full run: the lines naming no user first, in export order, then the
// users in key order (ordered.go).
func fullRunNumbers(t *testing.T, lines []string) map[int64]int64 {
	t.Helper()
	type user struct {
		order uint64
		at    int64
	}
	var users []user
	out := map[int64]int64{}
	var no, bad int64
	for _, l := range lines {
		if l == "" {
			continue
		}
		if _, key, reason, _ := userOf([]byte(l)); reason != "" {
			out[no] = bad
			bad++
		} else {
			users = append(users, user{kvmap.Order(key), no})
		}
		no++
	}
	slices.SortStableFunc(users, func(a, b user) int { return cmp.Compare(a.order, b.order) })
	for k, u := range users {
		out[u.at] = bad + int64(k)
	}
	return out
}

// letters counts the messages in the DLQ.
func letters(t *testing.T, ctx context.Context, js jetstream.JetStream) uint64 {
	t.Helper()
	s, err := js.Stream(ctx, proto.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func settleAll(t *testing.T, js jetstream.JetStream, run *proto.SyncRun, lines int64) {
	t.Helper()
	var ms []ledger.Mark
	for i := range lines {
		ms = append(ms, ledger.Mark{Line: i, Outcome: ledger.Created})
	}
	if err := newLedger(t, js).Mark(context.Background(), run.ID, proto.StageLoader, ms); err != nil {
		t.Fatal(err)
	}
}

func newLedger(t *testing.T, js jetstream.JetStream) *ledger.Ledger {
	t.Helper()
	l, err := ledger.Open(context.Background(), js, proto.BucketLedger)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Entries hashed otherwise than linediff.HashName (kept by an earlier
// version) are not compared: the incremental run publishes every line.
func TestEntriesHashedOtherwiseAreNotCompared(t *testing.T) {
	ctx, js, st := startStore(t, time.Minute)
	bz := &zipBraze{}
	const users = 50
	for i := range users {
		bz.lines = append(bz.lines, userLine(i, 0))
	}
	e, err := New(js, bz, st, Config{FieldsToExport: []string{"external_id"}, TempDir: t.TempDir(), Digest: "mapping-1",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var seen uint64
	published := func() int {
		t.Helper()
		var n int
		n, seen = natsxtest.StreamItems(t, ctx, js, proto.StreamRaw, proto.SubjectRawBrazeUsers, seen)
		return n
	}
	sync := func(typ string) *proto.SyncRun {
		t.Helper()
		run, err := e.Sync(ctx, typ)
		if err != nil {
			t.Fatal(err)
		}
		settleAll(t, js, run, users)
		return run
	}
	full := sync("full")
	if n := published(); n != users {
		t.Fatalf("the full run published %d lines, want %d", n, users)
	}
	if sync("incremental"); published() != 0 {
		t.Fatal("an incremental run with nothing changed published lines")
	}
	// The last run's entries, as an earlier version kept them: no hash
	// header (SHA-256 then).
	obs, err := js.ObjectStore(ctx, proto.BucketLines)
	if err != nil {
		t.Fatal(err)
	}
	last, err := st.LastRun(ctx, proto.ResourceUsers)
	if err != nil || last.ID == full.ID {
		t.Fatalf("the last run: %v, %v", last, err)
	}
	info, err := obs.GetInfo(ctx, last.ID)
	if err != nil {
		t.Fatal(err)
	}
	meta := info.ObjectMeta
	meta.Headers = map[string][]string{digestHeader: {"mapping-1"}}
	if err := obs.UpdateMeta(ctx, last.ID, meta); err != nil {
		t.Fatal(err)
	}
	if sync("incremental"); published() != users {
		t.Fatalf("entries without the hash header: want every one of %d lines published", users)
	}
}

// TestWriteEntriesInLineOrder: the entries written by scanWorkers
// goroutines, a chunk each, are those of the export's lines one by one,
// in line order, numbered as publishing numbers them (blank lines not
// numbered), with the lines that name no user marked.
func TestWriteEntriesInLineOrder(t *testing.T) {
	const users = 5*chunkLines + 17 // several chunks, the last one short
	var lines []string
	for i := range users {
		switch i % 997 {
		case 3:
			lines = append(lines, "   ") // blank: no number
		case 5:
			lines = append(lines, `{"braze_id":`) // malformed
		case 7:
			lines = append(lines, `{"external_id":"no-braze-id"}`)
		}
		lines = append(lines, userLine(i, i%3))
	}
	bz := &zipBraze{lines: lines}
	dir := t.TempDir()
	f, err := createExportFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, err := bz.WaitExport(context.Background(), "", braze.RewoundFile(f), braze.Backoff{})
	if err != nil {
		t.Fatal(err)
	}
	e := &Extractor{cfg: Config{TempDir: dir}, braze: bz}
	var unnamed linediff.Bitmap
	out, n, err := e.writeEntries(f, size, &unnamed)
	if err != nil {
		t.Fatal(err)
	}
	defer removeFile(out)

	var want []linediff.Entry
	var wantUnnamed []uint32
	for _, l := range lines {
		data := bytes.TrimSpace([]byte(l))
		if len(data) == 0 {
			continue
		}
		no := int64(len(want))
		en, _, _, reason, _ := entryOf(no, data)
		if reason != "" {
			wantUnnamed = append(wantUnnamed, uint32(no))
		}
		want = append(want, en)
	}
	if n != int64(len(want)) {
		t.Fatalf("numbered %d lines, want %d", n, len(want))
	}
	r := linediff.NewReader(out)
	for i, w := range want {
		got, ok, err := r.Next()
		if err != nil || !ok {
			t.Fatalf("entry %d: ok %v, err %v; want %+v", i, ok, err, w)
		}
		if got != w {
			t.Fatalf("entry %d = %+v, want %+v", i, got, w)
		}
	}
	if _, ok, _ := r.Next(); ok {
		t.Fatal("more entries than lines")
	}
	if unnamed.Count() != len(wantUnnamed) {
		t.Fatalf("%d lines marked as naming no user, want %d", unnamed.Count(), len(wantUnnamed))
	}
	for _, no := range wantUnnamed {
		if !unnamed.Has(no) {
			t.Fatalf("line %d names no user but is not marked", no)
		}
	}
}
