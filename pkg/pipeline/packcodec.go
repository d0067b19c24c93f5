package pipeline

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tajo-sync/tajo/proto"
)

// A pack's body is a msgpack array of packItems, each a map of "h" (the
// item's headers: a map of string arrays, left out when empty) and "d"
// (its bytes). Every message of a bulk sync is an item of a pack, read by
// the transformer and by the loader, and read again for each side letter:
// decoded by reflection, one pack of 128 cost more than its items' own
// decoding, and each side letter of a pack decoded all 128. So packs are
// read here: without reflection, an item's bytes a slice of the body (not
// a copy), and one item without the others. A body in another shape than
// the publisher writes (a future version's field, say) is read by msgpack
// itself.

var (
	// errPackShape: the body is not a pack (cut short, another type where
	// an item or its parts belong, a length past its end).
	errPackShape = errors.New("not a pack body")
	// errPackField: an item has a field this version does not write;
	// msgpack.Unmarshal reads the body.
	errPackField = errors.New("a pack item field this version does not know")
)

// decodePack reads every item of body.
func decodePack(body []byte) ([]packItem, error) {
	r := packReader{b: body}
	n, err := r.arrayLen()
	if err == nil && n > len(body) {
		err = errPackShape // each item takes a byte at least
	}
	var items []packItem
	if err == nil {
		items = make([]packItem, n)
		for i := range items {
			if items[i], err = r.item(true); err != nil {
				break
			}
		}
	}
	if err == nil && r.off != len(body) {
		err = fmt.Errorf("%w: %d bytes after its last item", errPackShape, len(body)-r.off)
	}
	if errors.Is(err, errPackField) {
		items = nil
		err = msgpack.Unmarshal(body, &items)
	}
	if err != nil {
		return nil, err
	}
	return items, nil
}

// decodePackItem reads item i of body, passing over those before it; ok
// false: body has no item i.
func decodePackItem(body []byte, i int) (it packItem, ok bool, err error) {
	r := packReader{b: body}
	n, err := r.arrayLen()
	for k := 0; err == nil && k < i && k < n; k++ {
		_, err = r.item(false)
	}
	if err == nil {
		if i >= n {
			return packItem{}, false, nil
		}
		if it, err = r.item(true); err == nil {
			return it, true, nil
		}
	}
	if !errors.Is(err, errPackField) {
		return packItem{}, false, err
	}
	items, err := decodePack(body)
	if err != nil || i >= len(items) {
		return packItem{}, false, err
	}
	return items[i], true, nil
}

// packReader reads the msgpack of a pack body from off.
type packReader struct {
	b   []byte
	off int
	run string // the last run id read
}

// item reads one item; keep false only passes over it.
func (r *packReader) item(keep bool) (packItem, error) {
	var it packItem
	n, err := r.mapLen()
	if err != nil {
		return it, err
	}
	for range n {
		key, err := r.raw()
		if err != nil {
			return it, err
		}
		switch string(key) {
		case "h":
			if it.H, err = r.header(keep); err != nil {
				return it, err
			}
		case "d":
			if it.D, err = r.raw(); err != nil {
				return it, err
			}
			if !keep {
				it.D = nil
			}
		default:
			return it, fmt.Errorf("%w: %q", errPackField, key)
		}
	}
	return it, nil
}

// header reads an item's headers (nil: none). The values of an item share
// one array, and a value the item before had for the same key (the run
// id) its string.
func (r *packReader) header(keep bool) (map[string][]string, error) {
	n, err := r.mapLen()
	if err != nil || n < 0 {
		return nil, err
	}
	var (
		h    map[string][]string
		vals []string
	)
	if keep {
		h = make(map[string][]string, n)
		vals = make([]string, 0, n)
	}
	for range n {
		k, err := r.raw()
		if err != nil {
			return nil, err
		}
		vn, err := r.arrayLen()
		if err != nil {
			return nil, err
		}
		from := len(vals)
		for range vn {
			v, err := r.raw()
			if err != nil {
				return nil, err
			}
			if keep {
				vals = append(vals, r.value(v))
			}
		}
		if keep {
			key := headerKey(k)
			h[key] = vals[from:len(vals):len(vals)]
			if vn == 1 && key == proto.HeaderRunID {
				r.run = vals[from]
			}
		}
	}
	return h, nil
}

// value is v as a string: the run id read before when it is that.
func (r *packReader) value(v []byte) string {
	if string(v) == r.run {
		return r.run
	}
	return string(v)
}

// headerKey is k as a string, the keys every item carries without an
// allocation.
func headerKey(k []byte) string {
	switch string(k) {
	case proto.HeaderRunID:
		return proto.HeaderRunID
	case proto.HeaderLine:
		return proto.HeaderLine
	case proto.HeaderMsgID:
		return proto.HeaderMsgID
	case traceparent:
		return traceparent
	}
	return string(k)
}

func (r *packReader) next() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errPackShape
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

// take is the next n bytes, a slice of the body that cannot grow into
// what follows.
func (r *packReader) take(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.off {
		return nil, errPackShape
	}
	s := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return s, nil
}

// length reads a big-endian length of size bytes.
func (r *packReader) length(size int) (int, error) {
	s, err := r.take(size)
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
		if uint64(v) > uint64(len(r.b)) {
			return 0, errPackShape
		}
		return int(v), nil
	}
}

// arrayLen reads an array's length (0 for nil).
func (r *packReader) arrayLen() (int, error) {
	c, err := r.next()
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
	return 0, fmt.Errorf("%w: array expected, found 0x%02x", errPackShape, c)
}

// mapLen reads a map's length (-1 for nil).
func (r *packReader) mapLen() (int, error) {
	c, err := r.next()
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
	return 0, fmt.Errorf("%w: map expected, found 0x%02x", errPackShape, c)
}

// raw reads a string or binary value as the bytes it holds (nil for nil).
func (r *packReader) raw() ([]byte, error) {
	c, err := r.next()
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
		return nil, fmt.Errorf("%w: string or bytes expected, found 0x%02x", errPackShape, c)
	}
	if err != nil {
		return nil, err
	}
	return r.take(n)
}
