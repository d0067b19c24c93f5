package membership

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrUnsorted is wrapped by the error of a membership file out of order or
// malformed: it was not written by a Sorter.
var ErrUnsorted = errors.New("membership: not a sorted membership")

// Reader reads a membership file line by line.
type Reader struct {
	br   *bufio.Reader
	last []byte
	line int64
}

// NewReader reads the membership in r.
func NewReader(r io.Reader) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &Reader{br: br}
}

// Next returns the next member, ok false at the end. id and ident are valid
// until the next call. An id not above the previous one is an ErrUnsorted.
func (r *Reader) Next() (id, ident []byte, ok bool, err error) {
	line, err := r.br.ReadSlice('\n')
	switch {
	case err == io.EOF && len(line) == 0:
		return nil, nil, false, nil
	case err == io.EOF:
		return nil, nil, false, fmt.Errorf("%w: line %d is not terminated", ErrUnsorted, r.line+1)
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, nil, false, fmt.Errorf("%w: line %d is longer than %d bytes", ErrUnsorted, r.line+1, r.br.Size())
	case err != nil:
		return nil, nil, false, fmt.Errorf("membership: reading line %d: %w", r.line+1, err)
	}
	r.line++
	line = line[:len(line)-1]
	tab := bytes.IndexByte(line, '\t')
	if tab <= 0 {
		return nil, nil, false, fmt.Errorf("%w: line %d has no braze id and tab", ErrUnsorted, r.line)
	}
	id, ident = line[:tab], line[tab+1:]
	if r.line > 1 && bytes.Compare(id, r.last) <= 0 {
		return nil, nil, false, fmt.Errorf("%w: line %d (%s) is not after the line before it", ErrUnsorted, r.line, id)
	}
	r.last = append(r.last[:0], id...)
	return id, ident, true, nil
}

// Change is what Diff reports of a member.
type Change int

const (
	Joined Change = iota + 1 // in the new membership only
	Left                     // in the old membership only
)

func (c Change) String() string {
	switch c {
	case Joined:
		return "joined"
	case Left:
		return "left"
	}
	return fmt.Sprintf("change(%d)", int(c))
}

// Stats counts what Diff read and reported.
type Stats struct {
	Old, New     int64 // members of each membership
	Joined, Left int64
	Reidentified int64 // in both, under another identifier (nothing to do: same contact)
	Unchanged    int64 // in both, same identifier
}

// Diff reads the old and the new membership side by side and calls fn for
// each member only in new (Joined, with its new identifier) or only in old
// (Left, with the identifier it had), in braze id order. A member in both
// is not reported: its contact is in the list already, whatever its
// identifier has become. A nil old reads as an empty membership. id and
// ident are valid only during the call. An error of fn stops the diff and
// is returned as it is.
func Diff(old, new io.Reader, fn func(c Change, id, ident []byte) error) (Stats, error) {
	var st Stats
	if old == nil {
		old = bytes.NewReader(nil)
	}
	or, nr := NewReader(old), NewReader(new)
	oid, oident, ook, err := or.Next()
	if err != nil {
		return st, fmt.Errorf("reading the old membership: %w", err)
	}
	nid, nident, nok, err := nr.Next()
	if err != nil {
		return st, fmt.Errorf("reading the new membership: %w", err)
	}
	for ook || nok {
		c := 0
		switch {
		case !ook:
			c = 1
		case !nok:
			c = -1
		default:
			c = bytes.Compare(oid, nid)
		}
		if c < 0 {
			st.Old++
			st.Left++
			if err := fn(Left, oid, oident); err != nil {
				return st, err
			}
		}
		if c > 0 {
			st.New++
			st.Joined++
			if err := fn(Joined, nid, nident); err != nil {
				return st, err
			}
		}
		if c == 0 {
			st.Old++
			st.New++
			if bytes.Equal(oident, nident) {
				st.Unchanged++
			} else {
				st.Reidentified++
			}
		}
		if c <= 0 {
			if oid, oident, ook, err = or.Next(); err != nil {
				return st, fmt.Errorf("reading the old membership: %w", err)
			}
		}
		if c >= 0 {
			if nid, nident, nok, err = nr.Next(); err != nil {
				return st, fmt.Errorf("reading the new membership: %w", err)
			}
		}
	}
	return st, nil
}
