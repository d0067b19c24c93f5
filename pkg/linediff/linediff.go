// Package linediff finds the lines of a Braze export that are the same as
// in an earlier run's export, by merging two files of (user, line hash)
// entries sorted by user instead of looking each user up. Memory stays at
// one sort buffer, whatever the number of users: entries live in files, and
// the caller keeps one bit per line.
//
// An entry names a line by its number in its export; the files of a run
// are kept in line order (the export's order, written as it is read) and
// sorted by user only for a merge.
package linediff

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// Entry is one export line: its user, the hash of its bytes and its number.
type Entry struct {
	ID   uint64 // HashID of the user's braze_id
	Hash uint64 // HashLine of the line's bytes
	Line uint32 // the line's number in its run (the export's order; a full run's key order)
}

// EntrySize is the bytes one entry takes in a file.
const EntrySize = 20

// HashName names the hash of HashID and HashLine, XXH64: entries hashed
// otherwise (kept by an earlier version, which used SHA-256) cannot be
// compared with these. Nothing here is a secret or a signature: a hash
// tells one user's line from its earlier version, and XXH64 does that at
// a tenth of SHA-256's cost, twice a line of every incremental export.
const HashName = "xxh64"

// HashID hashes a user's id.
func HashID(id string) uint64 { return xxhash.Sum64String(id) }

// HashLine hashes a line's bytes.
func HashLine(b []byte) uint64 { return xxhash.Sum64(b) }

// HashUnnamed is the ID of the entry of a line that names no user (not a
// user at all: malformed): its own bytes stand for the user, set apart
// from every HashID, so the same line in the next export is found the
// same.
func HashUnnamed(b []byte) uint64 { return xxhash.Sum64(b) ^ unnamedSalt }

// unnamedSalt sets HashUnnamed apart from HashLine (the fractional part of
// the golden ratio: any odd constant would do).
const unnamedSalt = 0x9e3779b97f4a7c15

func put(b []byte, e Entry) {
	binary.BigEndian.PutUint64(b[0:8], e.ID)
	binary.BigEndian.PutUint64(b[8:16], e.Hash)
	binary.BigEndian.PutUint32(b[16:20], e.Line)
}

func get(b []byte) Entry {
	return Entry{ID: binary.BigEndian.Uint64(b[0:8]), Hash: binary.BigEndian.Uint64(b[8:16]), Line: binary.BigEndian.Uint32(b[16:20])}
}

// Writer writes entries one after the other.
type Writer struct {
	w   *bufio.Writer
	buf [EntrySize]byte
	n   int64
}

// NewWriter writes entries to w; Flush before using what was written.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriterSize(w, 64<<10)} }

// Add writes one entry.
func (w *Writer) Add(e Entry) error {
	put(w.buf[:], e)
	w.n++
	_, err := w.w.Write(w.buf[:])
	return err
}

// Len is how many entries were added.
func (w *Writer) Len() int64 { return w.n }

// Flush writes what is buffered.
func (w *Writer) Flush() error { return w.w.Flush() }

// Reader reads entries one after the other.
type Reader struct {
	r       *bufio.Reader
	buf     [EntrySize]byte
	pending *Entry // an entry read ahead and given back (unread)
}

// NewReader reads the entries of r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReaderSize(r, 64<<10)} }

// ErrTruncated is returned for a file that ends inside an entry.
var ErrTruncated = errors.New("linediff: the file ends inside an entry")

// Next returns the next entry; ok is false at the end.
func (r *Reader) Next() (e Entry, ok bool, err error) {
	if r.pending != nil {
		e, r.pending = *r.pending, nil
		return e, true, nil
	}
	n, err := io.ReadFull(r.r, r.buf[:])
	switch {
	case errors.Is(err, io.EOF):
		return e, false, nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		return e, false, fmt.Errorf("%w (%d stray bytes)", ErrTruncated, n)
	case err != nil:
		return e, false, err
	}
	return get(r.buf[:]), true, nil
}

// DefaultChunk is how many entries SortByID sorts in memory at once (5 MB).
const DefaultChunk = 1 << 18

// SortByID reads the entries of r and returns a temporary file in dir
// holding them sorted by ID (then by line), positioned at its start. It
// sorts chunk entries at a time in memory and merges the sorted runs from
// files. The caller closes and removes the file.
func SortByID(r io.Reader, dir string, chunk int) (*os.File, error) {
	if chunk <= 0 {
		chunk = DefaultChunk
	}
	in := NewReader(r)
	var runs []*os.File
	defer func() {
		for _, f := range runs {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	buf := make([]Entry, 0, chunk)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		slices.SortFunc(buf, compare)
		f, err := os.CreateTemp(dir, "tajo-lines-run-*")
		if err != nil {
			return fmt.Errorf("sorting export lines: %w", err)
		}
		runs = append(runs, f)
		w := NewWriter(f)
		for _, e := range buf {
			if err := w.Add(e); err != nil {
				return fmt.Errorf("sorting export lines: %w", err)
			}
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("sorting export lines: %w", err)
		}
		buf = buf[:0]
		_, err = f.Seek(0, io.SeekStart)
		return err
	}
	for {
		e, ok, err := in.Next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		buf = append(buf, e)
		if len(buf) == chunk {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	buf = nil
	out, err := os.CreateTemp(dir, "tajo-lines-sorted-*")
	if err != nil {
		return nil, fmt.Errorf("sorting export lines: %w", err)
	}
	if err := merge(runs, out); err != nil {
		out.Close()
		os.Remove(out.Name())
		return nil, fmt.Errorf("sorting export lines: %w", err)
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		out.Close()
		os.Remove(out.Name())
		return nil, err
	}
	return out, nil
}

func compare(a, b Entry) int {
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	case a.Line < b.Line:
		return -1
	case a.Line > b.Line:
		return 1
	}
	return 0
}

// head is one sorted run's next entry.
type head struct {
	e Entry
	r *Reader
}

type heads []head

func (h heads) Len() int           { return len(h) }
func (h heads) Less(i, j int) bool { return compare(h[i].e, h[j].e) < 0 }
func (h heads) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *heads) Push(x any)        { *h = append(*h, x.(head)) }
func (h *heads) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// merge writes the entries of sorted runs to out in order.
func merge(runs []*os.File, out io.Writer) error {
	h := make(heads, 0, len(runs))
	for _, f := range runs {
		r := NewReader(f)
		e, ok, err := r.Next()
		if err != nil {
			return err
		}
		if ok {
			h = append(h, head{e, r})
		}
	}
	heap.Init(&h)
	w := NewWriter(out)
	for h.Len() > 0 {
		if err := w.Add(h[0].e); err != nil {
			return err
		}
		e, ok, err := h[0].r.Next()
		if err != nil {
			return err
		}
		if ok {
			h[0].e = e
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return w.Flush()
}

// Unchanged merges cur and base, both sorted by ID, and calls same with
// the line of each entry of cur whose user appears exactly once in cur and
// once in base, with the same line hash. A user that appears twice in
// either (two lines of one user, or two users whose ids hash alike) is
// never reported: its lines are handled as changed.
func Unchanged(cur, base io.Reader, same func(line uint32)) error {
	cr, br := NewReader(cur), NewReader(base)
	c, cok, err := group(cr)
	if err != nil {
		return fmt.Errorf("reading this run's lines: %w", err)
	}
	b, bok, err := group(br)
	if err != nil {
		return fmt.Errorf("reading the base run's lines: %w", err)
	}
	for cok && bok {
		switch {
		case c.e.ID < b.e.ID:
			c, cok, err = group(cr)
		case c.e.ID > b.e.ID:
			b, bok, err = group(br)
		default:
			if c.n == 1 && b.n == 1 && c.e.Hash == b.e.Hash {
				same(c.e.Line)
			}
			if c, cok, err = group(cr); err == nil {
				b, bok, err = group(br)
			}
		}
		if err != nil {
			return fmt.Errorf("merging export lines: %w", err)
		}
	}
	return nil
}

// unread gives e back: the next Next returns it.
func (r *Reader) unread(e Entry) { r.pending = &e }

// grouped is the first entry of a run of entries of one ID, and how many
// there were.
type grouped struct {
	e Entry
	n int
}

// group reads the entries of the next ID.
func group(r *Reader) (grouped, bool, error) {
	var g grouped
	e, ok, err := r.Next()
	if err != nil || !ok {
		return g, false, err
	}
	g.e, g.n = e, 1
	for {
		n, ok, err := r.Next()
		if err != nil {
			return g, false, err
		}
		if !ok {
			return g, true, nil
		}
		if n.ID < e.ID || (n.ID == e.ID && n.Line < e.Line) {
			return g, false, fmt.Errorf("entries are not sorted by id and line (line %d after line %d)", n.Line, e.Line)
		}
		if n.ID != e.ID {
			r.unread(n)
			return g, true, nil
		}
		g.n++
	}
}

// Bitmap is one bit per line number.
type Bitmap struct{ w []uint64 }

// Set sets line's bit.
func (b *Bitmap) Set(line uint32) {
	i := int(line / 64)
	if i >= len(b.w) {
		b.w = slices.Grow(b.w, i+1-len(b.w))[:i+1]
	}
	b.w[i] |= 1 << (line % 64)
}

// Has reports whether line's bit is set.
func (b *Bitmap) Has(line uint32) bool {
	i := int(line / 64)
	return b != nil && i < len(b.w) && b.w[i]&(1<<(line%64)) != 0
}

// Count is how many bits are set.
func (b *Bitmap) Count() int {
	n := 0
	for _, w := range b.w {
		n += bits.OnesCount64(w)
	}
	return n
}
