package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// kind is the JSON type of a value read from the export.
type kind uint8

const (
	kindNull kind = iota
	kindString
	kindNumber
	kindBool
	kindArray
	kindObject
)

// String names the kind with its article, as messages use it.
func (k kind) String() string {
	return [...]string{"null", "a string", "a number", "a boolean", "an array", "an object"}[k]
}

// value is one JSON value of the export, decoded only as far as coercion
// needs: numbers keep their literal so that text coercion can format them
// and float coercion can parse them once.
type value struct {
	kind kind
	str  string // string content, or the number's literal
	b    bool
	arr  []value
}

// decodeValue decodes raw, which encoding/json has already checked is one
// valid JSON value.
func decodeValue(raw json.RawMessage) (value, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return value{}, nil
	}
	switch raw[0] {
	case 'n':
		return value{}, nil
	case 't':
		return value{kind: kindBool, b: true}, nil
	case 'f':
		return value{kind: kindBool}, nil
	case '"':
		// Most strings carry no escape: slicing avoids a second scan.
		if bytes.IndexByte(raw[1:len(raw)-1], '\\') < 0 {
			return value{kind: kindString, str: string(raw[1 : len(raw)-1])}, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return value{}, fmt.Errorf("decoding string: %w", err)
		}
		return value{kind: kindString, str: s}, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return value{}, fmt.Errorf("decoding array: %w", err)
		}
		v := value{kind: kindArray, arr: make([]value, 0, len(items))}
		for _, it := range items {
			iv, err := decodeValue(it)
			if err != nil {
				return value{}, err
			}
			v.arr = append(v.arr, iv)
		}
		return v, nil
	case '{':
		return value{kind: kindObject}, nil
	default:
		return value{kind: kindNumber, str: string(raw)}, nil
	}
}

// empty reports whether v carries nothing worth sending: null, a blank
// string or an empty array. Such values are left out rather than sent, so
// they cannot wipe what Brevo holds.
func (v value) empty() bool {
	switch v.kind {
	case kindNull:
		return true
	case kindString:
		return isBlank(v.str)
	case kindArray:
		return len(v.arr) == 0
	}
	return false
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return true
}
