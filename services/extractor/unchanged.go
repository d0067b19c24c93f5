package extractor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/linediff"
	"github.com/tajo-sync/tajo/proto"
)

// An incremental run publishes only the lines of its export that changed
// since the run before it (its base): a Braze segment export holds every
// user each time, and most of them are as they were. Each run keeps its
// export as (user, line hash) entries in line order (an object in
// proto.BucketLines); the next incremental run takes the base run's
// entries whose lines ended written or unchanged (its ledger says so, with
// nothing left off), sorts them and its own by user, and merges the two
// files: a user with one line in each, of the same hash, is settled as
// unchanged without being published. Memory stays at a sort buffer and one
// bit per line.
//
// Lines are compared only while the digest (Config.Digest: the mapping and
// whatever else decides the contact) is the base run's; a full run
// publishes every line. Anything that goes wrong here publishes every line
// rather than skip one that changed.

// digestHeader names the digest an entries object was written under,
// hashHeader the hash of its entries (linediff.HashName).
const (
	digestHeader = "Tajo-Digest"
	hashHeader   = "Tajo-Line-Hash"
	linesHeader  = "Tajo-Lines"
)

// settledStages are the stages whose marks make up a run's ledger.
var settledStages = []string{proto.StageExtractor, proto.StageTransformer, proto.StageLoader}

// skipped are the lines of an incremental run's export it need not
// publish, the same bytes as in its base run: lines that run wrote or found
// unchanged with nothing left off (same), and lines it dead-lettered for
// something in the line itself (dead: not for an identifier another user
// held, which may be let go), which would only be dead-lettered again and
// grow the DLQ by one letter a run. Of those, unnamed are the lines that
// name no user (malformed): they count as malformed again, without a
// second letter. A nil *skipped skips nothing.
//
// entries are this run's entries, in line order, as the comparison wrote
// them: kept as the run's object, so publishing neither reads a skipped
// line's user nor hashes any line again. close removes the file.
type skipped struct {
	same, dead, unnamed linediff.Bitmap
	entries             *os.File
}

// close removes the entries file; nil-safe.
func (s *skipped) close() {
	if s != nil && s.entries != nil {
		removeFile(s.entries)
	}
}

// outcome is what a skipped line counts as in this run's ledger, and
// whether line no is skipped at all.
func (s *skipped) outcome(no int64) (ledger.Outcome, bool) {
	switch {
	case s == nil || no > int64(^uint32(0)):
		return 0, false
	case s.same.Has(uint32(no)):
		return ledger.Unchanged, true
	case s.dead.Has(uint32(no)):
		return ledger.DeadLettered, true
	}
	return 0, false
}

// unchangedLines returns, for an incremental run, the lines of its export
// unchanged since its base run (nil: publish every line).
func (e *Extractor) unchangedLines(ctx context.Context, run *proto.SyncRun, f *os.File, size int64, log *slog.Logger) (_ *skipped, err error) {
	if run.Type != "incremental" || run.Base == "" {
		return nil, nil
	}
	if e.cfg.Digest == "" {
		log.Info("no mapping digest configured: every line is published")
		return nil, nil
	}
	base, err := e.lines.Get(ctx, run.Base)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		log.Info("the base run kept no line entries: every line is published", "base", run.Base)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the base run's line entries: %w", err)
	}
	defer base.Close()
	info, err := base.Info()
	if err != nil {
		return nil, fmt.Errorf("reading the base run's line entries: %w", err)
	}
	if d := info.Headers.Get(digestHeader); d != e.cfg.Digest {
		log.Info("the mapping or the lists changed since the base run: every line is published", "base", run.Base)
		return nil, nil
	}
	if h := info.Headers.Get(hashHeader); h != linediff.HashName {
		log.Info("the base run's line entries were hashed otherwise (by an earlier version): every line is published",
			"base", run.Base, "hash", h, "want", linediff.HashName)
		return nil, nil
	}
	// The base run's entries are read (with its ledger, over the bus) and
	// sorted while this run's export is read and hashed (on the CPU).
	baseC := make(chan sortedBase, 1)
	go func() { baseC <- e.sortBase(ctx, run.Base, base) }()
	var sb *sortedBase
	waitBase := func() *sortedBase {
		if sb == nil {
			b := <-baseC
			sb = &b
		}
		return sb
	}
	defer func() { waitBase().remove() }() // before base is closed
	s := &skipped{}
	cur, n, err := e.writeEntries(f, size, &s.unnamed)
	if err != nil {
		return nil, err
	}
	s.entries = cur
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	curSorted, err := linediff.SortByID(cur, e.cfg.TempDir, 0)
	if err != nil {
		return nil, err
	}
	defer removeFile(curSorted)
	b := waitBase()
	if b.err != nil {
		return nil, b.err
	}
	for _, m := range []struct {
		base *os.File
		into *linediff.Bitmap
	}{{b.good, &s.same}, {b.dead, &s.dead}} {
		if m.base == nil {
			continue // nothing to compare with
		}
		if _, err := curSorted.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("reading this run's line entries again: %w", err)
		}
		if err := linediff.Unchanged(curSorted, m.base, m.into.Set); err != nil {
			return nil, err
		}
	}
	log.Info("lines unchanged since the base run are not published", "base", run.Base,
		"unchanged", s.same.Count(), "dead_lettered_again", s.dead.Count(), "lines", n)
	return s, nil
}

// sortedBase is the base run's entries to compare with, sorted by user
// (sortBase): good and dead as settledEntries has them, nil when empty.
type sortedBase struct {
	good, dead *os.File
	err        error
}

func (b *sortedBase) remove() {
	for _, f := range []*os.File{b.good, b.dead} {
		if f != nil {
			removeFile(f)
		}
	}
}

// sortBase is settledEntries with both files sorted by user.
func (e *Extractor) sortBase(ctx context.Context, baseRun string, base io.Reader) (b sortedBase) {
	good, dead, err := e.settledEntries(ctx, baseRun, base)
	if err != nil {
		return sortedBase{err: err}
	}
	defer removeFile(good)
	defer removeFile(dead)
	for _, m := range []struct {
		in  *os.File
		out **os.File
	}{{good, &b.good}, {dead, &b.dead}} {
		if fi, err := m.in.Stat(); err == nil && fi.Size() == 0 {
			continue
		}
		sorted, err := linediff.SortByID(m.in, e.cfg.TempDir, 0)
		if err != nil {
			b.remove()
			return sortedBase{err: err}
		}
		*m.out = sorted
	}
	return b
}

// storeEntries keeps the entries in f (written whole) as the run's
// object, for the next run.
func (e *Extractor) storeEntries(ctx context.Context, run *proto.SyncRun, f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	meta := jetstream.ObjectMeta{Name: run.ID, Headers: map[string][]string{
		digestHeader: {e.cfg.Digest}, hashHeader: {linediff.HashName}, linesHeader: {strconv.FormatInt(fi.Size()/linediff.EntrySize, 10)}}}
	if _, err := e.lines.Put(ctx, meta, f); err != nil {
		return fmt.Errorf("storing the export's line entries: %w", err)
	}
	return nil
}

// writeEntries reads the export and writes the entry of each line
// (entryOf), numbered as publishExport numbers lines, to a temporary file
// positioned at its start: the entries publishLine records when nothing
// was compared. The lines that name no user are set in unnamed. Lines are
// read here and hashed and read for their user on scanWorkers goroutines,
// a chunk of lines each (entryOf reads the whole line: most of the
// comparison's time); the entries are written in line order.
func (e *Extractor) writeEntries(f *os.File, size int64, unnamed *linediff.Bitmap) (*os.File, int64, error) {
	out, err := os.CreateTemp(e.cfg.TempDir, "tajo-lines-*")
	if err != nil {
		return nil, 0, fmt.Errorf("writing the export's line entries: %w", err)
	}
	w := linediff.NewWriter(out)
	workers := scanWorkers()
	// Chunks go round: free, filled here, scanned by a worker, written in
	// order and freed by the writer. Their number bounds the memory.
	chunks := 2*workers + 2
	free := make(chan *entryChunk, chunks)
	for range chunks {
		free <- &entryChunk{}
	}
	work, order := make(chan *entryChunk, chunks), make(chan *entryChunk, chunks)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for c := range work {
				c.scan()
			}
		})
	}
	written := make(chan error, 1)
	go func() {
		var err error
		for c := range order {
			<-c.done
			for i := 0; err == nil && i < len(c.entries); i++ {
				err = w.Add(c.entries[i])
			}
			for _, no := range c.unnamed {
				unnamed.Set(no)
			}
			free <- c
		}
		written <- err
	}()
	var no int64
	c := (<-free).reset()
	send := func() {
		order <- c
		work <- c
		c = (<-free).reset()
	}
	err = braze.ReadExportLimit(f, size, maxUncompressed(e.braze), func(l braze.Line) error {
		data := bytes.TrimSpace(l.Data)
		if l.Err == nil && len(data) == 0 {
			return nil // not numbered: publishLine skips it
		}
		defer func() { no++ }()
		if l.Err != nil || no > int64(^uint32(0)) {
			return nil
		}
		c.add(uint32(no), data)
		if len(c.lines) == chunkLines {
			send()
		}
		return nil
	})
	if len(c.lines) > 0 {
		send()
	}
	close(work)
	close(order)
	wg.Wait()
	if werr := <-written; err == nil {
		err = werr
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		_, err = out.Seek(0, io.SeekStart)
	}
	if err != nil {
		removeFile(out)
		return nil, 0, fmt.Errorf("writing the export's line entries: %w", err)
	}
	return out, no, nil
}

// chunkLines is how many lines writeEntries hands a worker at once.
const chunkLines = 2048

// scanWorkers is how many goroutines writeEntries reads lines on: one a
// core, up to four.
func scanWorkers() int { return min(max(runtime.GOMAXPROCS(0), 1), 4) }

// entryChunk is lines of an export on their way to their entries.
type entryChunk struct {
	data    []byte // the lines' bytes, one after another
	lines   []chunkLine
	entries []linediff.Entry
	unnamed []uint32 // the lines that name no user
	done    chan struct{}
}

type chunkLine struct {
	no       uint32
	from, to int
}

func (c *entryChunk) reset() *entryChunk {
	c.data, c.lines, c.entries, c.unnamed = c.data[:0], c.lines[:0], c.entries[:0], c.unnamed[:0]
	c.done = make(chan struct{})
	return c
}

func (c *entryChunk) add(no uint32, data []byte) {
	from := len(c.data)
	c.data = append(c.data, data...)
	c.lines = append(c.lines, chunkLine{no: no, from: from, to: len(c.data)})
}

// scan computes the chunk's entries, then says it is done.
func (c *entryChunk) scan() {
	for _, l := range c.lines {
		en, _, _, reason, _ := entryOf(int64(l.no), c.data[l.from:l.to])
		if reason != "" {
			c.unnamed = append(c.unnamed, l.no)
		}
		c.entries = append(c.entries, en)
	}
	close(c.done)
}

// settledEntries copies to two temporary files the entries of base whose
// lines its run wrote or found unchanged, with nothing left off (good),
// and those it dead-lettered for something in the line itself (dead).
func (e *Extractor) settledEntries(ctx context.Context, baseRun string, base io.Reader) (good, dead *os.File, err error) {
	files := make([]*os.File, 0, 2)
	defer func() {
		if err != nil {
			for _, f := range files {
				removeFile(f)
			}
		}
	}()
	for range 2 {
		f, err := os.CreateTemp(e.cfg.TempDir, "tajo-lines-base-*")
		if err != nil {
			return nil, nil, fmt.Errorf("reading the base run's line entries: %w", err)
		}
		files = append(files, f)
	}
	r := linediff.NewReader(base)
	gw, dw := linediff.NewWriter(files[0]), linediff.NewWriter(files[1])
	cur := e.ledger.Cursor(baseRun, settledStages...)
	for {
		en, ok, err := r.Next()
		if err == nil && ok {
			var o ledger.Outcome
			var fl ledger.Flags
			if o, fl, err = cur.At(ctx, int64(en.Line)); err == nil {
				switch {
				case fl == 0 && (o == ledger.Unchanged || o == ledger.Updated || o == ledger.Created):
					err = gw.Add(en)
				case o == ledger.DeadLettered && fl&ledger.Contested == 0:
					err = dw.Add(en)
				}
			}
		}
		if err == nil && !ok {
			for i, w := range []*linediff.Writer{gw, dw} {
				if err = w.Flush(); err == nil {
					_, err = files[i].Seek(0, io.SeekStart)
				}
				if err != nil {
					break
				}
			}
			if err == nil {
				return files[0], files[1], nil
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading the base run's line entries: %w", err)
		}
	}
}

// entryOf is the entry of line no, its bytes data (trimmed, not empty),
// and the user it names. A line that names none (reason and detail say
// why) has the entry of its own bytes (linediff.HashUnnamed): the same
// line in the next export is found the same, and need not be
// dead-lettered again.
func entryOf(no int64, data []byte) (en linediff.Entry, id, key, reason, detail string) {
	en = linediff.Entry{Hash: linediff.HashLine(data), Line: uint32(no)}
	if id, key, reason, detail = userOf(data); reason != "" {
		en.ID = linediff.HashUnnamed(data)
	} else {
		en.ID = linediff.HashID(id)
	}
	return en, id, key, reason, detail
}

func removeFile(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

// pruneLines deletes the line entries of every run but those in keep.
func (e *Extractor) pruneLines(ctx context.Context, keep ...string) error {
	infos, err := e.lines.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil
	}
	if err != nil {
		return err
	}
	kept := map[string]bool{}
	for _, k := range keep {
		kept[k] = true
	}
	for _, in := range infos {
		if !kept[in.Name] {
			if err := e.lines.Delete(ctx, in.Name); err != nil {
				return fmt.Errorf("deleting the line entries of run %s: %w", in.Name, err)
			}
		}
	}
	return nil
}
