package kvmap

import (
	"errors"
	"fmt"
	"unsafe"
)

// A shard is stored as a msgpack map from entry id to value (strings); a
// sealed shard also maps the empty id to "sealed". It is read and written
// here without a general msgpack decoder: a shard holds a few dozen
// entries, read by the thousand for each batch, and decoding each into a
// Go map cost two strings and a map slot an entry. Its entries are kept as
// a slice of strings that share the message's bytes.

// entry is one id and its value.
type entry struct{ id, val string }

// entries are a shard's entries, in no order; a scan finds one.
type entries []entry

func (es entries) get(id string) (string, bool) {
	for _, e := range es {
		if e.id == id {
			return e.val, true
		}
	}
	return "", false
}

func (es *entries) set(id, val string) {
	for i := range *es {
		if (*es)[i].id == id {
			(*es)[i].val = val
			return
		}
	}
	*es = append(*es, entry{id, val})
}

func (es *entries) del(id string) bool {
	for i, e := range *es {
		if e.id == id {
			last := len(*es) - 1
			(*es)[i] = (*es)[last]
			*es = (*es)[:last]
			return true
		}
	}
	return false
}

const sealedValue = "sealed"

var errShortShard = errors.New("truncated")

// decodeShard reads a stored shard. The entries share data, which must not
// change afterwards.
func decodeShard(data []byte) (es entries, sealed bool, err error) {
	if len(data) == 0 {
		return nil, false, nil
	}
	s := unsafe.String(&data[0], len(data))
	n, p, err := mapLen(s)
	if err != nil {
		return nil, false, err
	}
	if n > len(s) { // each entry takes at least two bytes
		return nil, false, fmt.Errorf("a map of %d entries in %d bytes", n, len(s))
	}
	// Room for the entries a write usually adds (one or two), so that
	// adding them does not copy the shard's.
	es = make(entries, 0, n+2)
	for range n {
		var id, val string
		if id, p, err = str(s, p); err != nil {
			return nil, false, err
		}
		if val, p, err = str(s, p); err != nil {
			return nil, false, err
		}
		if id == sealKey {
			sealed = true
			continue
		}
		es = append(es, entry{id, val})
	}
	if p != len(s) {
		return nil, false, fmt.Errorf("%d bytes after the map", len(s)-p)
	}
	return es, sealed, nil
}

// mapLen reads a msgpack map header (or nil: no entries).
func mapLen(s string) (n, p int, err error) {
	switch b := s[0]; {
	case b == 0xc0:
		return 0, 1, nil
	case b&0xf0 == 0x80:
		return int(b & 0x0f), 1, nil
	case b == 0xde && len(s) >= 3:
		return int(s[1])<<8 | int(s[2]), 3, nil
	case b == 0xdf && len(s) >= 5:
		return int(s[1])<<24 | int(s[2])<<16 | int(s[3])<<8 | int(s[4]), 5, nil
	case b == 0xde || b == 0xdf:
		return 0, 0, errShortShard
	}
	return 0, 0, fmt.Errorf("not a map (0x%02x)", s[0])
}

// str reads a msgpack string (or binary) at p.
func str(s string, p int) (string, int, error) {
	if p >= len(s) {
		return "", 0, errShortShard
	}
	b := s[p]
	var n, h int
	switch {
	case b&0xe0 == 0xa0:
		n, h = int(b&0x1f), 1
	case (b == 0xd9 || b == 0xc4) && p+2 <= len(s):
		n, h = int(s[p+1]), 2
	case (b == 0xda || b == 0xc5) && p+3 <= len(s):
		n, h = int(s[p+1])<<8|int(s[p+2]), 3
	case (b == 0xdb || b == 0xc6) && p+5 <= len(s):
		n, h = int(s[p+1])<<24|int(s[p+2])<<16|int(s[p+3])<<8|int(s[p+4]), 5
	case b == 0xd9 || b == 0xda || b == 0xdb || b == 0xc4 || b == 0xc5 || b == 0xc6:
		return "", 0, errShortShard
	default:
		return "", 0, fmt.Errorf("not a string (0x%02x)", b)
	}
	p += h
	if n > len(s)-p {
		return "", 0, errShortShard
	}
	return s[p : p+n], p + n, nil
}

// encodeShard encodes es, sealed or not, into one allocation of its size.
func encodeShard(es entries, sealed bool) []byte {
	n := len(es)
	if sealed {
		n++
	}
	size := headLen(n, 0x80)
	for _, e := range es {
		size += headLen(len(e.id), 0xa0) + len(e.id) + headLen(len(e.val), 0xa0) + len(e.val)
	}
	if sealed {
		size += 1 + 1 + len(sealedValue)
	}
	b := make([]byte, 0, size)
	b = appendHead(b, n, 0x80, 0xde)
	for _, e := range es {
		b = appendStr(b, e.id)
		b = appendStr(b, e.val)
	}
	if sealed {
		b = appendStr(b, sealKey)
		b = appendStr(b, sealedValue)
	}
	return b
}

func headLen(n int, fix byte) int {
	limit := 16 // fixmap
	if fix == 0xa0 {
		limit = 32 // fixstr
	}
	switch {
	case n < limit:
		return 1
	case fix == 0xa0 && n < 1<<8:
		return 2
	case n < 1<<16:
		return 3
	}
	return 5
}

// appendHead appends a map header (fix 0x80, sized from 0xde) or a string
// header (fix 0xa0, sized from 0xd9).
func appendHead(b []byte, n int, fix, sized byte) []byte {
	switch headLen(n, fix) {
	case 1:
		return append(b, fix|byte(n))
	case 2:
		return append(b, sized, byte(n))
	case 3:
		if fix == 0xa0 {
			sized++
		}
		return append(b, sized, byte(n>>8), byte(n))
	}
	if fix == 0xa0 {
		sized++
	}
	return append(b, sized+1, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendStr(b []byte, s string) []byte {
	return append(appendHead(b, len(s), 0xa0, 0xd9), s...)
}
