package brevo

import (
	"encoding/binary"
	"slices"
	"strings"
)

// A contact's attributes are kept in one string, entries sorted by attribute
// index, each encoded as uvarint(index) uvarint(len) bytes. A million contacts
// with a handful of attributes each then cost a string header and the bytes
// themselves instead of a map per contact.

type attrKV struct {
	id    uint16
	value string
	erase bool
}

func decodeAttrs(enc string) []attrKV {
	var out []attrKV
	b := []byte(enc)
	for len(b) > 0 {
		id, n := binary.Uvarint(b)
		b = b[n:]
		l, n := binary.Uvarint(b)
		b = b[n:]
		out = append(out, attrKV{id: uint16(id), value: string(b[:l])})
		b = b[l:]
	}
	return out
}

func encodeAttrs(kvs []attrKV) string {
	var sb strings.Builder
	var tmp [binary.MaxVarintLen64]byte
	for _, kv := range kvs {
		sb.Write(tmp[:binary.PutUvarint(tmp[:], uint64(kv.id))])
		sb.Write(tmp[:binary.PutUvarint(tmp[:], uint64(len(kv.value)))])
		sb.WriteString(kv.value)
	}
	return sb.String()
}

// mergeAttrs applies updates (later ones win) to an encoding and reports whether
// anything changed.
func mergeAttrs(enc string, updates []attrKV) (string, bool) {
	if len(updates) == 0 {
		return enc, false
	}
	kvs := decodeAttrs(enc)
	changed := false
	for _, u := range updates {
		i, found := slices.BinarySearchFunc(kvs, u.id, func(kv attrKV, id uint16) int { return int(kv.id) - int(id) })
		switch {
		case u.erase && found:
			kvs = slices.Delete(kvs, i, i+1)
			changed = true
		case u.erase:
		case found && kvs[i].value != u.value:
			kvs[i].value = u.value
			changed = true
		case !found:
			kvs = slices.Insert(kvs, i, attrKV{id: u.id, value: u.value})
			changed = true
		}
	}
	if !changed {
		return enc, false
	}
	return encodeAttrs(kvs), true
}
