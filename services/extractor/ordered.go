package extractor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/kvmap"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/linediff"
	"github.com/tajo-sync/tajo/proto"
)

// A full sync publishes its users in the order of their contact key's
// shard (kvmap.Order), not in the export's. The loader reads and writes each
// user's applied record in the fingerprints bucket, a shard of a dozen or so
// users at a time: users in no order touch a shard each, so a first sync
// rewrote about one shard a user, and read shards from every block of the
// bucket's stream, which the server then keeps loaded. In key order a
// loader batch holds the users of a run of shards: each shard is read and
// written once for all of them, and the stream's blocks are read in turn.
// Measured with the Braze simulator exporting in that order (all-in-one,
// 2 cores): 1.53 stored messages a user instead of 2.04 at 200,000 users,
// 1.29 at 1,000,000; 0.48-0.51 of the baseline instead of 0.43-0.45 at
// 200,000, 0.47 instead of 0.33 at 1,000,000, peak 706 MB instead of 1,001.
//
// It takes a pass more over the export: the first reads it in its order,
// numbers and dead-letters the lines that are no user, and copies each
// user's line to a spool file with an index entry (its key's Order, its
// offset); the index is sorted on disk (linediff.SortByID: memory stays at
// one sort buffer) and the second pass numbers the users in that order, the
// lines that are no user before them, and publishes them. A run's ledger,
// its line entries and its letters name a line by that number: in key
// order, a loader batch's users have numbers that follow one another, so
// the transformer's and the loader's marks of a batch fill a few ledger
// shards, not every one (numbered as the export has them, a batch's marks
// rewrote each of a run's ledger shards: 0.44 stored messages a user at
// 1,000,000). The letters also say where the export has the line. The
// spool holds every user's e-mail, as the export does: it is created and
// cleaned up as the export is (exportfile.go). Incremental runs publish
// few lines, each where and as the export has it.

// spoolPattern names a full run's spool of user lines, in Config.TempDir.
const spoolPattern = "braze-export-*.lines"

// publishOrdered reads a full run's export and publishes its users in key
// order (see above); lastProgress paces the run's progress records.
func (e *Extractor) publishOrdered(ctx context.Context, run *proto.SyncRun, f *os.File, size int64, lastProgress *time.Time, tidy *tidyFiles, log *slog.Logger) (err error) {
	spool, err := createLockedFile(e.cfg.TempDir, spoolPattern)
	if err != nil {
		return err
	}
	defer func() {
		if err == nil {
			tidy.add(spool) // once the run is recorded exported
		} else {
			removeFile(spool) // before it is spooled again
		}
	}()
	idx, err := os.CreateTemp(e.cfg.TempDir, "tajo-order-*")
	if err != nil {
		return fmt.Errorf("ordering the export by key: %w", err)
	}
	defer removeFile(idx)
	sw := bufio.NewWriterSize(spool, 64<<10)
	iw := linediff.NewWriter(idx)
	var off, users int64
	err = braze.ReadExportLimit(f, size, maxUncompressed(e.braze), func(l braze.Line) error {
		if err := e.spoolLine(ctx, run, l, sw, &off, &users, iw); err != nil {
			return err
		}
		if len(e.marks) >= markEvery {
			if err := e.flushMarks(ctx, run); err != nil {
				return err
			}
		}
		e.progress(ctx, run, lastProgress, log)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the export of run %s: %w", run.ID, err)
	}
	if err := e.flushMarks(ctx, run); err != nil {
		return err
	}
	if err := errors.Join(sw.Flush(), iw.Flush()); err != nil {
		return fmt.Errorf("spooling the export's users: %w", err)
	}
	if _, err := idx.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("ordering the export by key: %w", err)
	}
	sorted, err := linediff.SortByID(idx, e.cfg.TempDir, 0)
	if err != nil {
		return fmt.Errorf("ordering the export by key: %w", err)
	}
	defer removeFile(sorted)
	log.Info("export read and its users put in key order; publishing them", "users", users, "malformed", run.Malformed)
	return e.publishSpooled(ctx, run, spool, sorted, lastProgress, log)
}

// spoolLine is publishLine's first half for an ordered run: a line that
// is no user is numbered and dead-lettered; a user's line is copied to the
// spool (its offset advances off) and indexed by its key's Order and its
// place among the users (users is that place, counted), to be numbered
// when it is published.
func (e *Extractor) spoolLine(ctx context.Context, run *proto.SyncRun, l braze.Line, spool *bufio.Writer, off *int64, users *int64, idx *linediff.Writer) error {
	data, where, err := e.readLine(ctx, run, l)
	if data == nil {
		return err
	}
	if e.line+*users >= int64(^uint32(0)) {
		return fmt.Errorf("the export has more than %d lines: too many to order", uint32(^uint32(0)))
	}
	_, key, reason, detail := userOf(data)
	if reason != "" {
		en, _, _, _, _ := entryOf(e.line, data)
		if err := e.recordEntry(en); err != nil {
			return err
		}
		return e.deadLetter(ctx, run, reason, where()+": "+detail, data)
	}
	if err := idx.Add(linediff.Entry{ID: kvmap.Order(key), Hash: uint64(*off), Line: uint32(*users)}); err != nil {
		return fmt.Errorf("spooling the export's users: %w", err)
	}
	*users++
	n, err := spool.Write(data)
	if err == nil {
		err = spool.WriteByte('\n')
	}
	if err != nil {
		return fmt.Errorf("spooling the export's users: %w", err)
	}
	*off += int64(n) + 1
	return nil
}

// publishSpooled publishes the spooled lines in the order of sorted's
// entries, flushing every markEvery lines (the packs are cut there, the
// same way whenever the export is published again) and waiting there
// while the transformer is behind.
func (e *Extractor) publishSpooled(ctx context.Context, run *proto.SyncRun, spool *os.File, sorted io.Reader, lastProgress *time.Time, log *slog.Logger) error {
	r := linediff.NewReader(sorted)
	lines := newSpoolReader(spool)
	for n := 1; ; n++ {
		en, ok, err := r.Next()
		if err != nil {
			return fmt.Errorf("reading the export's key order: %w", err)
		}
		if !ok {
			return nil
		}
		data, err := lines.at(int64(en.Hash))
		if err != nil {
			return fmt.Errorf("reading user %d from the spool: %w", en.Line, err)
		}
		no := e.line
		e.line++
		le, id, _, _, _ := entryOf(no, data)
		if err := e.recordEntry(le); err != nil {
			return err
		}
		where := func() string { return fmt.Sprintf("user %d of the export (line %d of the run)", en.Line, no) }
		published, err := e.publishUser(ctx, run, no, id, data, where)
		if err != nil {
			return err
		}
		if published {
			e.marks = append(e.marks, ledger.Mark{Line: no, Outcome: ledger.Exported})
		}
		if n%markEvery == 0 {
			if err := e.flushMarks(ctx, run); err != nil {
				return err
			}
			if err := e.backlog.Wait(ctx); err != nil {
				return err
			}
		}
		e.progress(ctx, run, lastProgress, log)
	}
}

// spoolReader reads lines back from a spool by offset.
type spoolReader struct {
	f   *os.File
	buf []byte
}

func newSpoolReader(f *os.File) *spoolReader { return &spoolReader{f: f, buf: make([]byte, 4096)} }

// at returns the line at off, without its newline; valid until the next
// call.
func (s *spoolReader) at(off int64) ([]byte, error) {
	have := 0
	for {
		n, err := s.f.ReadAt(s.buf[have:], off+int64(have))
		if i := bytes.IndexByte(s.buf[have:have+n], '\n'); i >= 0 {
			return s.buf[:have+i], nil
		}
		have += n
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if have == len(s.buf) {
			s.buf = append(s.buf, make([]byte, len(s.buf))...)
		}
	}
}
