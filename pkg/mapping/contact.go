package mapping

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
)

// Contact is one Brevo contact as mapped from one Braze user.
type Contact struct {
	BrazeID string `json:"braze_id"`
	ExtID   string `json:"ext_id,omitempty"`
	Email   string `json:"email,omitempty"`
	// Key identifies the contact across runs: ExtID, or "braze:"+BrazeID when
	// the user has no external id.
	Key string `json:"key"`
	// Attributes hold string (text and date "YYYY-MM-DD"), float64 or bool
	// values. Absent Braze values are absent here, never "" or nil.
	Attributes map[string]any `json:"attributes"`
	// Warnings name the attributes dropped because their value could not
	// be coerced, and why.
	Warnings []string `json:"warnings,omitempty"`
	// LeftOff are the identifiers the contact is synced without (an
	// invalid email of a user an ext_id identifies), and why: each is
	// reported apart, and never holds the contact back.
	LeftOff []LeftOff `json:"left_off,omitempty"`
}

// LeftOff is an identifier left off a contact.
type LeftOff struct {
	Reason string `json:"reason"` // a DLQ reason token, e.g. invalid_email
	Detail string `json:"detail"` // why; names the field, never the value
}

// Fingerprint is a stable hash of what would be written to Brevo: ExtID,
// Email and the attributes, in sorted key order with each value's type.
// Two contacts with equal fingerprints need not be sent twice. BrazeID and
// Warnings are not part of it: they are never written to Brevo.
func (c *Contact) Fingerprint() string {
	h := sha256.New()
	var buf [9]byte
	writeField := func(tag byte, s string) {
		// Type tag and length prefix keep ("ab","c") and ("a","bc") apart.
		buf[0] = tag
		binary.BigEndian.PutUint64(buf[1:], uint64(len(s)))
		h.Write(buf[:])
		h.Write([]byte(s))
	}
	writeField('x', c.ExtID)
	writeField('e', c.Email)
	keys := make([]string, 0, len(c.Attributes))
	for k := range c.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		writeField('k', k)
		switch v := c.Attributes[k].(type) {
		case string:
			writeField('s', v)
		case float64:
			buf[0] = 'f'
			binary.BigEndian.PutUint64(buf[1:], math.Float64bits(v))
			h.Write(buf[:])
		case bool:
			buf[0], buf[1] = 'b', 0
			if v {
				buf[1] = 1
			}
			h.Write(buf[:2])
		case nil:
			h.Write([]byte{'n'})
		default:
			// Map never produces other types; a caller that adds one still
			// gets a deterministic, type-distinguished hash.
			writeField('?', fmt.Sprintf("%T:%v", v, v))
		}
	}
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:16])
}
