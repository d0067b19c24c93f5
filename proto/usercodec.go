package proto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"sync"
	"sync/atomic"
)

// A ContactUpsert is encoded by the transformer and decoded by the loader
// for every user of a sync, and a RawUser by the extractor and the
// transformer; appendMsgpack and decodeUpsert (decodeRawUser) do it without
// reflection (Encode and Decode use them), in the shape msgpack gives the
// struct: a map of its fields by their tags, in order, empty omitempty
// fields left out. An attribute value of a type the mapping does not make
// (only strings, numbers as float64, booleans and nil), or bytes of another
// shape, go through msgpack.

// errOtherShape: not read here; msgpack reads it.
var errOtherShape = errors.New("upsert in a shape read by msgpack")

// appendMsgpack appends m as msgpack; ok false when an attribute's type is
// not one this encoder writes (nothing is appended then).
func (m *ContactUpsert) appendMsgpack(b []byte) (_ []byte, ok bool) {
	for _, v := range m.Attributes {
		switch v.(type) {
		case string, float64, bool, nil:
		default:
			return b, false
		}
	}
	fields := 7
	if m.ExtID != "" {
		fields++
	}
	if m.Email != "" {
		fields++
	}
	if len(m.LeftOff) > 0 {
		fields++
	}
	b = AppendMsgpackMapLen(b, fields)
	b = appendMsgpackInt(AppendMsgpackStr(b, "v"), int64(m.V))
	b = AppendMsgpackStr(AppendMsgpackStr(b, "run"), m.RunID)
	b = AppendMsgpackStr(AppendMsgpackStr(b, "key"), m.Key)
	b = AppendMsgpackStr(AppendMsgpackStr(b, "bid"), m.BrazeID)
	if m.ExtID != "" {
		b = AppendMsgpackStr(AppendMsgpackStr(b, "ext"), m.ExtID)
	}
	if m.Email != "" {
		b = AppendMsgpackStr(AppendMsgpackStr(b, "email"), m.Email)
	}
	b = AppendMsgpackStr(b, "attrs")
	if m.Attributes == nil {
		b = append(b, 0xc0)
	} else {
		b = AppendMsgpackMapLen(b, len(m.Attributes))
		for k, v := range m.Attributes {
			b = AppendMsgpackStr(b, k)
			switch v := v.(type) {
			case string:
				b = AppendMsgpackStr(b, v)
			case float64:
				b = binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(v))
			case bool:
				if v {
					b = append(b, 0xc3)
				} else {
					b = append(b, 0xc2)
				}
			case nil:
				b = append(b, 0xc0)
			}
		}
	}
	b = appendMsgpackInt64(AppendMsgpackStr(b, "sv"), m.SourceVersion)
	b = AppendMsgpackStr(AppendMsgpackStr(b, "fp"), m.Fingerprint)
	if len(m.LeftOff) > 0 {
		b = AppendMsgpackArrayLen(AppendMsgpackStr(b, "lo"), len(m.LeftOff))
		for _, lo := range m.LeftOff {
			b = AppendMsgpackMapLen(b, 2)
			b = AppendMsgpackStr(AppendMsgpackStr(b, "r"), lo.Reason)
			b = AppendMsgpackStr(AppendMsgpackStr(b, "d"), lo.Detail)
		}
	}
	return b, true
}

// decodeUpsert reads data into m (which it zeroes first); errOtherShape
// when msgpack is to read it instead, ErrMsgpackShape when it is not an
// upsert at all.
func decodeUpsert(data []byte, m *ContactUpsert) error {
	*m = ContactUpsert{}
	return decodeWhole(data, func(r *MsgpackReader, key []byte) (err error) {
		switch string(key) {
		case "v":
			m.V, err = r.version()
		case "run":
			m.RunID, err = r.runID()
		case "key":
			m.Key, err = r.str()
		case "bid":
			m.BrazeID, err = r.str()
		case "ext":
			m.ExtID, err = r.str()
		case "email":
			m.Email, err = r.str()
		case "attrs":
			m.Attributes, err = r.attributes()
		case "sv":
			m.SourceVersion, err = r.Int()
		case "fp":
			m.Fingerprint, err = r.str()
		case "lo":
			m.LeftOff, err = r.leftOff()
		default:
			return errOtherShape
		}
		return err
	})
}

// decodeWhole reads data as one struct, field by field; bytes after it
// are left to msgpack (errOtherShape).
func decodeWhole(data []byte, field func(r *MsgpackReader, key []byte) error) error {
	r := MsgpackReader{B: data}
	if err := r.Fields(field); err != nil {
		return err
	}
	if r.Off != len(data) {
		return errOtherShape
	}
	return nil
}

// version reads a schema version.
func (r *MsgpackReader) version() (int, error) {
	v, err := r.Int()
	return int(v), err
}

// str reads a string (nil: "").
func (r *MsgpackReader) str() (string, error) {
	b, err := r.Raw()
	return string(b), err
}

// lastRun is the run id decoded last: the upserts of a run share its
// string.
var lastRun atomic.Pointer[string]

func (r *MsgpackReader) runID() (string, error) {
	b, err := r.Raw()
	if err != nil {
		return "", err
	}
	if p := lastRun.Load(); p != nil && *p == string(b) {
		return *p, nil
	}
	s := string(b)
	lastRun.Store(&s)
	return s, nil
}

// attributeNames keeps one copy of each attribute name read (a mapping
// has tens), up to maxAttributeNames.
var attributeNames = struct {
	sync.RWMutex
	m map[string]string
}{m: map[string]string{}}

const maxAttributeNames = 1024

func attributeName(b []byte) string {
	attributeNames.RLock()
	s, ok := attributeNames.m[string(b)]
	attributeNames.RUnlock()
	if ok {
		return s
	}
	s = string(b)
	attributeNames.Lock()
	if len(attributeNames.m) < maxAttributeNames {
		attributeNames.m[s] = s
	}
	attributeNames.Unlock()
	return s
}

// attributes reads the attributes map; a value of a type the encoder does
// not write is left to msgpack (errOtherShape).
func (r *MsgpackReader) attributes() (map[string]any, error) {
	n, err := r.MapLen()
	if err != nil || n < 0 {
		return nil, err
	}
	attrs := make(map[string]any, min(n, len(r.B)))
	for range n {
		k, err := r.Raw()
		if err != nil {
			return nil, err
		}
		var v any
		if r.Off >= len(r.B) {
			return nil, ErrMsgpackShape
		}
		switch c := r.B[r.Off]; {
		case c >= 0xa0 && c <= 0xbf, c == 0xd9, c == 0xda, c == 0xdb:
			v, err = r.str() // its own copy: a value may be kept (the SMS)
		case c == 0xcb:
			var b []byte
			if b, err = r.Take(9); err == nil {
				v = math.Float64frombits(binary.BigEndian.Uint64(b[1:]))
			}
		case c == 0xc2 || c == 0xc3:
			r.Off++
			v = c == 0xc3
		case c == 0xc0:
			r.Off++
		default:
			return nil, errOtherShape
		}
		if err != nil {
			return nil, err
		}
		attrs[attributeName(k)] = v
	}
	return attrs, nil
}

// leftOff reads the identifiers left off (nil for nil, empty for empty).
func (r *MsgpackReader) leftOff() ([]LeftOff, error) {
	if r.Off < len(r.B) && r.B[r.Off] == 0xc0 {
		r.Off++
		return nil, nil
	}
	n, err := r.ArrayLen()
	if err != nil {
		return nil, err
	}
	if n > len(r.B)-r.Off {
		return nil, ErrMsgpackShape // each takes a byte at least
	}
	out := make([]LeftOff, n)
	for i := range out {
		err := r.Fields(func(r *MsgpackReader, key []byte) (err error) {
			switch string(key) {
			case "r":
				out[i].Reason, err = r.str()
			case "d":
				out[i].Detail, err = r.str()
			default:
				return errOtherShape
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// appendMsgpack appends m as msgpack (as msgpack writes it).
func (m *RawUser) appendMsgpack(b []byte) []byte {
	b = AppendMsgpackMapLen(b, 5)
	b = appendMsgpackInt(AppendMsgpackStr(b, "v"), int64(m.V))
	b = AppendMsgpackStr(AppendMsgpackStr(b, "run"), m.RunID)
	b = AppendMsgpackStr(AppendMsgpackStr(b, "bid"), m.BrazeID)
	b = appendMsgpackInt64(AppendMsgpackStr(b, "at"), m.ExportedAt)
	b = AppendMsgpackStr(b, "line")
	if m.Line == nil {
		return append(b, 0xc0)
	}
	return AppendMsgpackBin(b, m.Line)
}

// decodeRawUser reads data into m (which it zeroes first); an error when
// msgpack is to read it instead.
func decodeRawUser(data []byte, m *RawUser) error {
	*m = RawUser{}
	return decodeWhole(data, func(r *MsgpackReader, key []byte) (err error) {
		switch string(key) {
		case "v":
			m.V, err = r.version()
		case "run":
			m.RunID, err = r.runID()
		case "bid":
			m.BrazeID, err = r.str()
		case "at":
			m.ExportedAt, err = r.Int()
		case "line":
			var b []byte
			if b, err = r.Raw(); b != nil {
				m.Line = bytes.Clone(b)
			}
		default:
			return errOtherShape
		}
		return err
	})
}
