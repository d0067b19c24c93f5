package extractor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"

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

// digestHeader names the digest an entries object was written under.
const (
	digestHeader = "Tajo-Digest"
	linesHeader  = "Tajo-Lines"
)

// settledStages are the stages whose marks make up a run's ledger.
var settledStages = []string{proto.StageExtractor, proto.StageTransformer, proto.StageLoader}

// unchangedLines returns, for an incremental run, the lines of its export
// unchanged since its base run (nil: publish every line).
func (e *Extractor) unchangedLines(ctx context.Context, run *proto.SyncRun, f *os.File, size int64, log *slog.Logger) (*linediff.Bitmap, error) {
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
	good, err := e.settledEntries(ctx, run.Base, base)
	if err != nil {
		return nil, err
	}
	defer removeFile(good)
	cur, n, err := e.writeEntries(f, size)
	if err != nil {
		return nil, err
	}
	defer removeFile(cur)
	curSorted, err := linediff.SortByID(cur, e.cfg.TempDir, 0)
	if err != nil {
		return nil, err
	}
	defer removeFile(curSorted)
	goodSorted, err := linediff.SortByID(good, e.cfg.TempDir, 0)
	if err != nil {
		return nil, err
	}
	defer removeFile(goodSorted)
	var same linediff.Bitmap
	if err := linediff.Unchanged(curSorted, goodSorted, same.Set); err != nil {
		return nil, err
	}
	log.Info("lines unchanged since the base run are not published", "base", run.Base, "unchanged", same.Count(), "lines", n)
	return &same, nil
}

// storeEntries keeps the entries publishExport recorded in f as the run's
// object, for the next run.
func (e *Extractor) storeEntries(ctx context.Context, run *proto.SyncRun, f *os.File) error {
	if err := e.entries.Flush(); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	meta := jetstream.ObjectMeta{Name: run.ID, Headers: map[string][]string{
		digestHeader: {e.cfg.Digest}, linesHeader: {strconv.FormatInt(e.entries.Len(), 10)}}}
	if _, err := e.lines.Put(ctx, meta, f); err != nil {
		return fmt.Errorf("storing the export's line entries: %w", err)
	}
	return nil
}

// writeEntries reads the export and writes an entry for each line that
// names a user, numbered as publishExport numbers lines, to a temporary
// file positioned at its start. publishLine records the same entries.
func (e *Extractor) writeEntries(f *os.File, size int64) (*os.File, int64, error) {
	out, err := os.CreateTemp(e.cfg.TempDir, "tajo-lines-*")
	if err != nil {
		return nil, 0, fmt.Errorf("writing the export's line entries: %w", err)
	}
	w := linediff.NewWriter(out)
	var no int64
	err = braze.ReadExportLimit(f, size, maxUncompressed(e.braze), func(l braze.Line) error {
		data := bytes.TrimSpace(l.Data)
		if l.Err == nil && len(data) == 0 {
			return nil // not numbered: publishLine skips it
		}
		defer func() { no++ }()
		if l.Err != nil || no > int64(^uint32(0)) {
			return nil
		}
		id, reason, _ := brazeID(data)
		if reason != "" {
			return nil
		}
		return w.Add(linediff.Entry{ID: linediff.HashID(id), Hash: linediff.HashLine(data), Line: uint32(no)})
	})
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

// settledEntries copies to a temporary file the entries of base whose
// lines its run wrote or found unchanged, with nothing left off.
func (e *Extractor) settledEntries(ctx context.Context, baseRun string, base io.Reader) (*os.File, error) {
	out, err := os.CreateTemp(e.cfg.TempDir, "tajo-lines-base-*")
	if err != nil {
		return nil, fmt.Errorf("reading the base run's line entries: %w", err)
	}
	r, w := linediff.NewReader(base), linediff.NewWriter(out)
	cur := e.ledger.Cursor(baseRun, settledStages...)
	for {
		en, ok, err := r.Next()
		if err == nil && ok {
			var o ledger.Outcome
			var fl ledger.Flags
			if o, fl, err = cur.At(ctx, int64(en.Line)); err == nil && fl == 0 &&
				(o == ledger.Unchanged || o == ledger.Updated || o == ledger.Created) {
				err = w.Add(en)
			}
		}
		if err == nil && !ok {
			err = w.Flush()
			if err == nil {
				_, err = out.Seek(0, io.SeekStart)
			}
			if err == nil {
				return out, nil
			}
		}
		if err != nil {
			removeFile(out)
			return nil, fmt.Errorf("reading the base run's line entries: %w", err)
		}
	}
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
