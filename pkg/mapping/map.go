package mapping

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// topFields are the top-level fields of an export line that Map reads:
// every mappable standard field, and custom_attributes. Each has a slot in
// record.top.
var topFields = [...]string{
	"external_id", "braze_id", "first_name", "last_name", "email", "phone", "dob",
	"gender", "country", "home_city", "language", "time_zone", "created_at",
	"total_revenue", "random_bucket", "email_subscribe", "push_subscribe",
	"push_opted_in_at", "uninstalled_at", "last_coordinates", "attributed_campaign",
	"attributed_source", "attributed_adgroup", "attributed_ad", "custom_attributes",
}

// topSlot is the index of each name in topFields.
var topSlot = func() map[string]int {
	m := make(map[string]int, len(topFields))
	for i, f := range topFields {
		m[f] = i
	}
	return m
}()

// Slots Map reads on every record, whatever the mapping.
var (
	slotExternalID    = topSlot["external_id"]
	slotBrazeID       = topSlot["braze_id"]
	slotCountry       = topSlot["country"]
	slotPushSubscribe = topSlot["push_subscribe"]
	slotCustom        = topSlot["custom_attributes"]
)

// record holds the raw bytes of the values Map needs, sliced from the line
// without copying. A nil slice is an absent field.
type record struct {
	top    [len(topFields)][]byte
	custom [][]byte // by Mapper.customSlot
}

// read scans line into a record, keeping only the fields m maps.
func (m *Mapper) read(line []byte) (*record, error) {
	rec := &record{}
	err := scanObject(line, func(key []byte, esc bool, val []byte) {
		k := string(key) // the compiler does not allocate for a map index
		if esc {
			k = unescapeKey(key)
		}
		if i, ok := topSlot[k]; ok {
			rec.top[i] = val
		}
	})
	if err != nil {
		return nil, err
	}
	raw := rec.top[slotCustom]
	if len(m.customSlot) == 0 || len(raw) == 0 || raw[0] != '{' {
		return rec, nil
	}
	rec.custom = make([][]byte, len(m.customSlot))
	err = scanObject(raw, func(key []byte, esc bool, val []byte) {
		var i int
		var ok bool
		if esc {
			i, ok = m.customSlot[unescapeKey(key)]
		} else {
			i, ok = m.customSlot[string(key)]
		}
		if ok {
			rec.custom[i] = val
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reading custom_attributes: %w", err)
	}
	return rec, nil
}

// raw returns the bytes of a mapped field, nil when the user has none.
func (rec *record) raw(top bool, slot int) []byte {
	if top {
		return rec.top[slot]
	}
	if slot < len(rec.custom) {
		return rec.custom[slot]
	}
	return nil
}

// Map maps one line of a Braze export (one JSON object) to a Contact. A
// record that cannot be a contact returns a *RecordError; a value that
// cannot be coerced only drops its attribute and adds a warning.
func (m *Mapper) Map(line []byte) (Contact, error) {
	rec, err := m.read(line)
	if err != nil {
		return Contact{}, malformed(err)
	}

	var c Contact
	if c.BrazeID, err = brazeIDOf(rec.top[slotBrazeID]); err != nil {
		return Contact{}, err
	}
	if c.ExtID, err = identifier(rec.top[slotExternalID]); err != nil {
		return Contact{}, recordErr(ReasonNoIdentifier, "external_id: %v", err)
	}
	if m.emailSource != "" {
		v, err := decodeValue(rec.raw(m.emailTop, m.emailSlot))
		if err != nil {
			return Contact{}, recordErr(ReasonMalformedJSON, "%s: %v", m.emailSource, err)
		}
		if !v.empty() {
			var bad string
			switch {
			case v.kind != kindString:
				bad = fmt.Sprintf("%s is %s, not an email address", m.emailSource, v.kind)
			default:
				if c.Email, err = normalizeEmail(v.str); err != nil {
					bad = fmt.Sprintf("%s: %v", m.emailSource, err)
				}
			}
			switch {
			case bad == "":
			case c.ExtID == "":
				return Contact{}, recordErr(ReasonInvalidEmail, "%s", bad)
			default:
				// The ext_id identifies the contact: it is synced without the
				// email, and what was left off is reported.
				c.Email = ""
				c.LeftOff = append(c.LeftOff, LeftOff{Reason: ReasonInvalidEmail, Detail: bad + "; synced without email"})
			}
		}
	}
	switch {
	case c.ExtID != "" || c.Email != "":
		c.Key = ContactKey(c.ExtID, c.BrazeID)
	default:
		return Contact{}, recordErr(ReasonNoIdentifier, "the record has neither external_id nor %s", orNone(m.emailSource))
	}

	c.Attributes = make(map[string]any, len(m.rules))
	for i := range m.rules {
		r := &m.rules[i]
		out, warn := m.mapRule(r, rec)
		if warn != "" {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s (from %s): %s; attribute dropped", r.attr, r.source, warn))
			continue
		}
		if out != nil {
			c.Attributes[r.attr] = out
		}
	}
	return c, nil
}

// mapRule returns the coerced value of one rule, nil when the user has no
// value, or a warning when the value cannot be used.
func (m *Mapper) mapRule(r *rule, rec *record) (any, string) {
	raw := rec.raw(r.top, r.slot)
	if r.how == pushOptIn && raw == nil {
		// Derived: Braze exports push_subscribe, not a boolean.
		ps, err := decodeValue(rec.top[slotPushSubscribe])
		if err != nil || ps.empty() {
			return nil, ""
		}
		if ps.kind != kindString {
			return nil, fmt.Sprintf("push_subscribe is %s, not a subscription state", ps.kind)
		}
		return strings.TrimSpace(ps.str) == "opted_in", ""
	}
	v, err := decodeValue(raw)
	if err != nil {
		return nil, err.Error()
	}
	if v.empty() {
		return nil, ""
	}
	switch r.how {
	case phone:
		if v.kind != kindString && v.kind != kindNumber {
			return nil, fmt.Sprintf("%s is not a phone number", v.kind)
		}
		e164, err := normalizePhone(v.str, m.phoneRegion(rec))
		if err != nil {
			return nil, err.Error()
		}
		return e164, ""
	case timeZone:
		if v.kind == kindString {
			if iana, ok := RailsTimeZone(v.str); ok && r.typ == TypeText {
				return iana, ""
			}
		}
	}
	out, err := coerce(v, r.typ)
	if err == errEmpty {
		return nil, ""
	}
	if err != nil {
		return nil, fmt.Sprintf("cannot coerce to %s: %v", r.typ, err)
	}
	return out, ""
}

// phoneRegion is the user's country when it names a region libphonenumber
// knows, else the configured default.
func (m *Mapper) phoneRegion(rec *record) string {
	v, err := decodeValue(rec.top[slotCountry])
	if err != nil || v.kind != kindString {
		return m.region
	}
	cc := strings.TrimSpace(v.str)
	if len(cc) != 2 {
		return m.region
	}
	cc = strings.ToUpper(cc)
	if regionMetadata(cc) == nil {
		return m.region
	}
	return cc
}

// identifier reads an id that should be a string; numbers are accepted as
// their literal, since some apps set numeric external ids.
func identifier(raw json.RawMessage) (string, error) {
	v, err := decodeValue(raw)
	if err != nil {
		return "", err
	}
	switch v.kind {
	case kindNull:
		return "", nil
	case kindString, kindNumber:
		if strings.ContainsRune(v.str, utf8.RuneError) {
			// Invalid UTF-8 in the export, replaced on decoding: an id
			// written to Brevo with U+FFFD would never match the user again.
			return "", fmt.Errorf("is not valid UTF-8")
		}
		return strings.TrimSpace(v.str), nil
	}
	return "", fmt.Errorf("is %s, not a string", v.kind)
}

func orNone(s string) string {
	if s == "" {
		return "an email (no field maps to \"email\")"
	}
	return s
}
