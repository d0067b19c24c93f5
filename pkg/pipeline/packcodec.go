package pipeline

import (
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
	errPackShape = proto.ErrMsgpackShape
	// errPackField: an item has a field this version does not write;
	// msgpack.Unmarshal reads the body.
	errPackField = errors.New("a pack item field this version does not know")
)

// decodePack reads every item of body.
func decodePack(body []byte) ([]packItem, error) {
	r := packReader{MsgpackReader: proto.MsgpackReader{B: body}}
	n, err := r.ArrayLen()
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
	if err == nil && r.Off != len(body) {
		err = fmt.Errorf("%w: %d bytes after its last item", errPackShape, len(body)-r.Off)
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
	r := packReader{MsgpackReader: proto.MsgpackReader{B: body}}
	n, err := r.ArrayLen()
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

// packReader reads the msgpack of a pack body.
type packReader struct {
	proto.MsgpackReader
	run string // the last run id read
}

// item reads one item; keep false only passes over it.
func (r *packReader) item(keep bool) (packItem, error) {
	var it packItem
	err := r.Fields(func(_ *proto.MsgpackReader, key []byte) (err error) {
		switch string(key) {
		case "h":
			it.H, err = r.header(keep)
		case "d":
			if it.D, err = r.Raw(); !keep {
				it.D = nil
			}
		default:
			return fmt.Errorf("%w: %q", errPackField, key)
		}
		return err
	})
	return it, err
}

// header reads an item's headers (nil: none). The values of an item share
// one array, and a value the item before had for the same key (the run
// id) its string.
func (r *packReader) header(keep bool) (map[string][]string, error) {
	n, err := r.MapLen()
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
		k, err := r.Raw()
		if err != nil {
			return nil, err
		}
		vn, err := r.ArrayLen()
		if err != nil {
			return nil, err
		}
		from := len(vals)
		for range vn {
			v, err := r.Raw()
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

// appendPack appends items as a pack body: msgpack as msgpack writes it,
// without reflection (the publisher writes one for every 128 users).
func appendPack(b []byte, items []packItem) []byte {
	b = proto.AppendMsgpackArrayLen(b, len(items))
	for _, it := range items {
		if len(it.H) > 0 {
			b = proto.AppendMsgpackMapLen(b, 2)
			b = proto.AppendMsgpackMapLen(proto.AppendMsgpackStr(b, "h"), len(it.H))
			for k, vs := range it.H {
				b = proto.AppendMsgpackStr(b, k)
				if vs == nil {
					b = append(b, 0xc0)
					continue
				}
				b = proto.AppendMsgpackArrayLen(b, len(vs))
				for _, v := range vs {
					b = proto.AppendMsgpackStr(b, v)
				}
			}
		} else {
			b = proto.AppendMsgpackMapLen(b, 1)
		}
		b = proto.AppendMsgpackStr(b, "d")
		if it.D == nil {
			b = append(b, 0xc0)
		} else {
			b = proto.AppendMsgpackBin(b, it.D)
		}
	}
	return b
}
