package membership

import (
	"bufio"
	"bytes"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// DefaultRunBytes is how many bytes of members a Sorter keeps in memory
// before it spills a sorted run to disk.
const DefaultRunBytes = 8 << 20

// ErrBadMember is wrapped by the error for a member a membership file
// cannot hold: an empty id, or a tab or newline in either field.
var ErrBadMember = errors.New("membership: invalid member")

// checkMember refuses what would break the line format.
func checkMember(id, ident string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty braze id", ErrBadMember)
	case hasSeparator(id):
		return fmt.Errorf("%w: braze id %q holds a tab or a newline", ErrBadMember, id)
	case hasSeparator(ident):
		return fmt.Errorf("%w: identifier of %s holds a tab or a newline", ErrBadMember, id)
	}
	return nil
}

func hasSeparator(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\t' || s[i] == '\n' || s[i] == '\r' {
			return true
		}
	}
	return false
}

// Sorter collects members in any order and writes them as a membership:
// sorted by braze id, each id once (the first added wins). It keeps at most
// RunBytes of members in memory; more are spilled to sorted temporary files
// in Dir, merged by WriteTo. Close removes the temporary files.
type Sorter struct {
	dir      string
	runBytes int
	arena    []byte // lines of the run in memory
	lines    []span // where each line of the arena is
	runs     []*os.File
	added    int64
}

// span locates a line in the arena; idLen is the length of its id.
type span struct{ off, n, idLen uint32 }

// NewSorter returns a Sorter spilling to dir (os.TempDir() when empty) once
// runBytes of members are held (DefaultRunBytes when <= 0).
func NewSorter(dir string, runBytes int) *Sorter {
	if runBytes <= 0 {
		runBytes = DefaultRunBytes
	}
	if dir == "" {
		dir = os.TempDir()
	}
	return &Sorter{dir: dir, runBytes: runBytes}
}

// Add adds a member.
func (s *Sorter) Add(id, ident string) error {
	if err := checkMember(id, ident); err != nil {
		return err
	}
	if len(s.arena)+len(id)+len(ident)+2 > s.runBytes && len(s.lines) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	off := len(s.arena)
	s.arena = append(s.arena, id...)
	s.arena = append(s.arena, '\t')
	s.arena = append(s.arena, ident...)
	s.arena = append(s.arena, '\n')
	s.lines = append(s.lines, span{off: uint32(off), n: uint32(len(s.arena) - off), idLen: uint32(len(id))})
	s.added++
	return nil
}

// Added is how many members were added (duplicates included).
func (s *Sorter) Added() int64 { return s.added }

func (s *Sorter) id(sp span) []byte { return s.arena[sp.off : sp.off+sp.idLen] }

// sortRun sorts the lines in memory by id.
func (s *Sorter) sortRun() {
	slices.SortStableFunc(s.lines, func(a, b span) int { return bytes.Compare(s.id(a), s.id(b)) })
}

// writeSorted writes the sorted run in memory, each id once (the first
// added: the sort is stable), and returns how many lines it wrote. Write
// errors stay in bw, for its Flush.
func (s *Sorter) writeSorted(bw *bufio.Writer) int64 {
	var n int64
	var last []byte
	for i, sp := range s.lines {
		if i > 0 && bytes.Equal(s.id(sp), last) {
			continue
		}
		last = s.id(sp)
		bw.Write(s.arena[sp.off : sp.off+sp.n])
		n++
	}
	return n
}

// spill writes the run in memory to a temporary file, sorted.
func (s *Sorter) spill() error {
	s.sortRun()
	f, err := os.CreateTemp(s.dir, "tajo-membership-run-*")
	if err != nil {
		return fmt.Errorf("membership: spilling %d members: %w", len(s.lines), err)
	}
	s.runs = append(s.runs, f)
	bw := bufio.NewWriterSize(f, 256<<10)
	s.writeSorted(bw)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("membership: spilling %d members to %s: %w", len(s.lines), f.Name(), err)
	}
	s.arena, s.lines = s.arena[:0], s.lines[:0]
	return nil
}

// WriteTo writes the membership to w: every member added, sorted by id,
// each id once. It returns how many members it wrote. The Sorter is spent
// afterwards; Close it.
func (s *Sorter) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	var n int64
	if len(s.runs) == 0 {
		s.sortRun()
		n = s.writeSorted(bw)
		if err := bw.Flush(); err != nil {
			return n, fmt.Errorf("membership: writing %d members: %w", n, err)
		}
		return n, nil
	}
	if len(s.lines) > 0 {
		if err := s.spill(); err != nil {
			return 0, err
		}
	}
	s.arena, s.lines = nil, nil // the merge needs only its readers
	h := &runHeap{}
	for k, f := range s.runs {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return 0, fmt.Errorf("membership: rereading run %s: %w", f.Name(), err)
		}
		r := &run{r: NewReader(bufio.NewReaderSize(f, 64<<10)), order: k}
		ok, err := r.next()
		if err != nil {
			return 0, err
		}
		if ok {
			h.items = append(h.items, r)
		}
	}
	heap.Init(h)
	var last []byte
	for h.Len() > 0 {
		r := h.items[0]
		if n == 0 || !bytes.Equal(r.id, last) {
			last = append(last[:0], r.id...)
			bw.Write(r.id)
			bw.WriteByte('\t')
			bw.Write(r.ident)
			bw.WriteByte('\n')
			n++
		}
		ok, err := r.next()
		switch {
		case err != nil:
			return n, err
		case ok:
			heap.Fix(h, 0)
		default:
			heap.Pop(h)
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("membership: writing %d members: %w", n, err)
	}
	return n, nil
}

// Close removes the temporary files.
func (s *Sorter) Close() error {
	var errs []error
	for _, f := range s.runs {
		f.Close()
		if err := os.Remove(f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	s.runs, s.arena, s.lines = nil, nil, nil
	return errors.Join(errs...)
}

// run is one spilled run being merged.
type run struct {
	r         *Reader
	id, ident []byte
	order     int // earlier runs win ties: the first member added is kept
}

func (r *run) next() (bool, error) {
	id, ident, ok, err := r.r.Next()
	r.id, r.ident = id, ident
	return ok, err
}

type runHeap struct{ items []*run }

func (h *runHeap) Len() int { return len(h.items) }
func (h *runHeap) Less(i, j int) bool {
	if c := bytes.Compare(h.items[i].id, h.items[j].id); c != 0 {
		return c < 0
	}
	return h.items[i].order < h.items[j].order
}
func (h *runHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *runHeap) Push(x any)    { h.items = append(h.items, x.(*run)) }
func (h *runHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
