package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// spoolPattern names the spool's files: one per process that spooled.
const spoolPattern = "audit-*.jsonl"

// spoolLine is one line of a spool file.
type spoolLine struct {
	ID    string `json:"id"` // the message id, so that a re-shipped entry is stored once
	Entry Entry  `json:"entry"`
}

// spool keeps entries on disk until a Recorder with a publisher ships them.
// A process appends to a file of its own, locked while it is open, so
// shippers leave it alone until the process closes it (or dies).
type spool struct {
	dir     string
	mu      sync.Mutex
	f       *os.File
	shipped atomic.Int64
}

// append writes one entry and syncs it to disk.
func (s *spool) append(id string, e Entry) error {
	b, err := json.Marshal(spoolLine{ID: id, Entry: e})
	if err != nil {
		return fmt.Errorf("encoding an audit entry for the spool: %w", err)
	}
	b = append(b, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			return fmt.Errorf("creating the audit spool %s: %w", s.dir, err)
		}
		name := fmt.Sprintf("audit-%d-%d.jsonl", time.Now().UnixNano(), os.Getpid())
		f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("creating an audit spool file in %s: %w", s.dir, err)
		}
		if err := lockSpool(f); err != nil {
			f.Close()
			return fmt.Errorf("locking the audit spool file %s: %w", f.Name(), err)
		}
		s.f = f
	}
	if _, err := s.f.Write(b); err != nil {
		return fmt.Errorf("writing the audit spool file %s: %w", s.f.Name(), err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("syncing the audit spool file %s: %w", s.f.Name(), err)
	}
	return nil
}

// close closes this process's file, which releases it to the shippers.
func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	if err != nil {
		return fmt.Errorf("closing the audit spool file: %w", err)
	}
	return nil
}

// ownFile is the name of this process's open spool file, "" when none.
func (s *spool) ownFile() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return ""
	}
	return s.f.Name()
}

// shipSpool publishes the entries of every spool file no live process
// holds, oldest file first, and removes each file once all of it is
// stored. A file is kept for the next round when a publish does not go
// through before ctx is done.
func (r *Recorder) shipSpool(ctx context.Context) {
	paths, err := filepath.Glob(filepath.Join(r.spool.dir, spoolPattern))
	if err != nil || len(paths) == 0 {
		return
	}
	own := r.spool.ownFile()
	for _, p := range paths { // Glob sorts: audit-<nanoseconds>-... is oldest first
		if p == own {
			continue
		}
		if err := r.shipFile(ctx, p); err != nil {
			if ctx.Err() == nil {
				r.o.Logger.Warn("shipping the audit spool", "file", p, "err", err)
			}
			return
		}
	}
}

func (r *Recorder) shipFile(ctx context.Context, path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil // shipped by another process meanwhile
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if free, err := spoolFree(f); err != nil || !free {
		return err // a live process still writes it
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		var l spoolLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.ID == "" {
			// A line cut by a crash mid-write: nothing to publish.
			r.o.Logger.Warn("skipping an unreadable audit spool line", "file", path, "line", n+1)
			continue
		}
		if !r.send(ctx, l.Entry, l.ID) {
			return fmt.Errorf("shipping %s: stopped after %d entries", path, n)
		}
		n++
		r.spool.shipped.Add(1)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("removing the shipped spool file: %w", err)
	}
	r.o.Logger.Info("audit spool shipped to the AUDIT stream", "file", path, "entries", n)
	return nil
}
