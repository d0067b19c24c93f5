package proto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The messages every user of a sync crosses (packs, upserts) are read and
// written here without reflection: by msgpack's reflection, decoding and
// encoding them cost more CPU than the work they carry. What is written is
// msgpack that msgpack reads as the same value, and what cannot be read here
// (another shape, a type this version does not write) is read by msgpack.

// ErrMsgpackShape is returned by a MsgpackReader for bytes that are not the
// value asked for (cut short, another type, a length past the end).
var ErrMsgpackShape = errors.New("msgpack: not the expected shape")

// MsgpackReader reads msgpack values from B, at Off.
type MsgpackReader struct {
	B   []byte
	Off int
}

// Next reads one byte.
func (r *MsgpackReader) Next() (byte, error) {
	if r.Off >= len(r.B) {
		return 0, ErrMsgpackShape
	}
	c := r.B[r.Off]
	r.Off++
	return c, nil
}

// Take is the next n bytes: a slice of B that cannot grow into what
// follows.
func (r *MsgpackReader) Take(n int) ([]byte, error) {
	if n < 0 || n > len(r.B)-r.Off {
		return nil, ErrMsgpackShape
	}
	s := r.B[r.Off : r.Off+n : r.Off+n]
	r.Off += n
	return s, nil
}

// length reads a big-endian length of size bytes; none is longer than B.
func (r *MsgpackReader) length(size int) (int, error) {
	s, err := r.Take(size)
	if err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return int(s[0]), nil
	case 2:
		return int(binary.BigEndian.Uint16(s)), nil
	default:
		v := binary.BigEndian.Uint32(s)
		if uint64(v) > uint64(len(r.B)) {
			return 0, ErrMsgpackShape
		}
		return int(v), nil
	}
}

// ArrayLen reads an array's length (0 for nil).
func (r *MsgpackReader) ArrayLen() (int, error) {
	c, err := r.Next()
	switch {
	case err != nil:
		return 0, err
	case c >= 0x90 && c <= 0x9f:
		return int(c & 0x0f), nil
	case c == 0xdc:
		return r.length(2)
	case c == 0xdd:
		return r.length(4)
	case c == 0xc0:
		return 0, nil
	}
	return 0, fmt.Errorf("%w: array expected, found 0x%02x", ErrMsgpackShape, c)
}

// MapLen reads a map's length (-1 for nil).
func (r *MsgpackReader) MapLen() (int, error) {
	c, err := r.Next()
	switch {
	case err != nil:
		return 0, err
	case c >= 0x80 && c <= 0x8f:
		return int(c & 0x0f), nil
	case c == 0xde:
		return r.length(2)
	case c == 0xdf:
		return r.length(4)
	case c == 0xc0:
		return -1, nil
	}
	return 0, fmt.Errorf("%w: map expected, found 0x%02x", ErrMsgpackShape, c)
}

// Fields reads a map keyed by strings (a struct as msgpack writes it; nil
// has no fields), calling field with r and each key, r at its value:
// field reads the value, or returns an error that ends the read.
func (r *MsgpackReader) Fields(field func(r *MsgpackReader, key []byte) error) error {
	n, err := r.MapLen()
	if err != nil {
		return err
	}
	for range n {
		k, err := r.Raw()
		if err != nil {
			return err
		}
		if err := field(r, k); err != nil {
			return err
		}
	}
	return nil
}

// Raw reads a string or binary value as the bytes it holds (nil for nil).
func (r *MsgpackReader) Raw() ([]byte, error) {
	c, err := r.Next()
	if err != nil {
		return nil, err
	}
	n := 0
	switch {
	case c >= 0xa0 && c <= 0xbf:
		n = int(c & 0x1f)
	case c == 0xd9 || c == 0xc4:
		n, err = r.length(1)
	case c == 0xda || c == 0xc5:
		n, err = r.length(2)
	case c == 0xdb || c == 0xc6:
		n, err = r.length(4)
	case c == 0xc0:
		return nil, nil
	default:
		return nil, fmt.Errorf("%w: string or bytes expected, found 0x%02x", ErrMsgpackShape, c)
	}
	if err != nil {
		return nil, err
	}
	return r.Take(n)
}

// Int reads an integer of any width (0 for nil).
func (r *MsgpackReader) Int() (int64, error) {
	c, err := r.Next()
	if err != nil {
		return 0, err
	}
	switch {
	case c <= 0x7f:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c == 0xc0:
		return 0, nil
	}
	var size int
	switch c {
	case 0xcc, 0xd0:
		size = 1
	case 0xcd, 0xd1:
		size = 2
	case 0xce, 0xd2:
		size = 4
	case 0xcf, 0xd3:
		size = 8
	default:
		return 0, fmt.Errorf("%w: integer expected, found 0x%02x", ErrMsgpackShape, c)
	}
	s, err := r.Take(size)
	if err != nil {
		return 0, err
	}
	var u uint64
	for _, b := range s {
		u = u<<8 | uint64(b)
	}
	switch c {
	case 0xd0:
		return int64(int8(u)), nil
	case 0xd1:
		return int64(int16(u)), nil
	case 0xd2:
		return int64(int32(u)), nil
	case 0xcf:
		if u > math.MaxInt64 {
			return 0, fmt.Errorf("%w: %d is past int64", ErrMsgpackShape, u)
		}
	}
	return int64(u), nil
}

// AppendMsgpackStr appends s as a msgpack string.
func AppendMsgpackStr(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n < 1<<8:
		b = append(b, 0xd9, byte(n))
	case n < 1<<16:
		b = append(b, 0xda, byte(n>>8), byte(n))
	default:
		b = append(b, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, s...)
}

// appendMsgpackInt appends n as msgpack writes a Go int: in its smallest
// form, unsigned when it is not negative.
func appendMsgpackInt(b []byte, n int64) []byte {
	switch {
	case n >= 0 && n <= 0x7f:
		return append(b, byte(n))
	case n >= 0 && n <= math.MaxUint8:
		return append(b, 0xcc, byte(n))
	case n >= 0 && n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
	case n >= 0 && n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
	case n >= 0:
		return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(n))
	case n >= -32:
		return append(b, byte(int8(n)))
	case n >= math.MinInt8:
		return append(b, 0xd0, byte(int8(n)))
	case n >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(int16(n)))
	case n >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(int32(n)))
	}
	return appendMsgpackInt64(b, n)
}

// appendMsgpackInt64 appends n as msgpack writes a Go int64: in 9 bytes.
func appendMsgpackInt64(b []byte, n int64) []byte {
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
}

// AppendMsgpackMapLen appends a map header of n entries.
func AppendMsgpackMapLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n < 1<<16:
		return append(b, 0xde, byte(n>>8), byte(n))
	}
	return append(b, 0xdf, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// AppendMsgpackArrayLen appends an array header of n elements.
func AppendMsgpackArrayLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n < 1<<16:
		return append(b, 0xdc, byte(n>>8), byte(n))
	}
	return append(b, 0xdd, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// AppendMsgpackBin appends p as msgpack binary.
func AppendMsgpackBin(b []byte, p []byte) []byte {
	switch n := len(p); {
	case n < 1<<8:
		b = append(b, 0xc4, byte(n))
	case n < 1<<16:
		b = append(b, 0xc5, byte(n>>8), byte(n))
	default:
		b = append(b, 0xc6, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, p...)
}
