package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// exportUser holds the top-level fields of a Braze export line that can be
// mapped. encoding/json skips the large arrays (campaigns, devices, ...)
// without copying them; json.RawMessage defers decoding until a rule needs
// the value.
type exportUser struct {
	ExternalID         json.RawMessage `json:"external_id"`
	BrazeID            json.RawMessage `json:"braze_id"`
	FirstName          json.RawMessage `json:"first_name"`
	LastName           json.RawMessage `json:"last_name"`
	Email              json.RawMessage `json:"email"`
	Phone              json.RawMessage `json:"phone"`
	DOB                json.RawMessage `json:"dob"`
	Gender             json.RawMessage `json:"gender"`
	Country            json.RawMessage `json:"country"`
	HomeCity           json.RawMessage `json:"home_city"`
	Language           json.RawMessage `json:"language"`
	TimeZone           json.RawMessage `json:"time_zone"`
	CreatedAt          json.RawMessage `json:"created_at"`
	TotalRevenue       json.RawMessage `json:"total_revenue"`
	RandomBucket       json.RawMessage `json:"random_bucket"`
	EmailSubscribe     json.RawMessage `json:"email_subscribe"`
	PushSubscribe      json.RawMessage `json:"push_subscribe"`
	PushOptedInAt      json.RawMessage `json:"push_opted_in_at"`
	UninstalledAt      json.RawMessage `json:"uninstalled_at"`
	LastCoordinates    json.RawMessage `json:"last_coordinates"`
	AttributedCampaign json.RawMessage `json:"attributed_campaign"`
	AttributedSource   json.RawMessage `json:"attributed_source"`
	AttributedAdgroup  json.RawMessage `json:"attributed_adgroup"`
	AttributedAd       json.RawMessage `json:"attributed_ad"`
	CustomAttributes   json.RawMessage `json:"custom_attributes"`
}

// field returns the raw value of a top-level field; nil when absent. The
// names are those of standardFields with a type.
func (u *exportUser) field(name string) json.RawMessage {
	switch name {
	case "external_id":
		return u.ExternalID
	case "braze_id":
		return u.BrazeID
	case "first_name":
		return u.FirstName
	case "last_name":
		return u.LastName
	case "email":
		return u.Email
	case "phone":
		return u.Phone
	case "dob":
		return u.DOB
	case "gender":
		return u.Gender
	case "country":
		return u.Country
	case "home_city":
		return u.HomeCity
	case "language":
		return u.Language
	case "time_zone":
		return u.TimeZone
	case "created_at":
		return u.CreatedAt
	case "total_revenue":
		return u.TotalRevenue
	case "random_bucket":
		return u.RandomBucket
	case "email_subscribe":
		return u.EmailSubscribe
	case "push_subscribe":
		return u.PushSubscribe
	case "push_opted_in_at":
		return u.PushOptedInAt
	case "uninstalled_at":
		return u.UninstalledAt
	case "last_coordinates":
		return u.LastCoordinates
	case "attributed_campaign":
		return u.AttributedCampaign
	case "attributed_source":
		return u.AttributedSource
	case "attributed_adgroup":
		return u.AttributedAdgroup
	case "attributed_ad":
		return u.AttributedAd
	}
	return nil
}

// Map maps one line of a Braze export (one JSON object) to a Contact. A
// record that cannot be a contact returns a *RecordError; a value that
// cannot be coerced only drops its attribute and adds a warning.
func (m *Mapper) Map(line []byte) (Contact, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return Contact{}, recordErr(ReasonMalformedJSON, "the line is not a JSON object")
	}
	var u exportUser
	if err := json.Unmarshal(line, &u); err != nil {
		return Contact{}, recordErr(ReasonMalformedJSON, "decoding the export line: %v", err)
	}
	var custom map[string]json.RawMessage
	if m.needCustom && len(u.CustomAttributes) > 0 && u.CustomAttributes[0] == '{' {
		if err := json.Unmarshal(u.CustomAttributes, &custom); err != nil {
			return Contact{}, recordErr(ReasonMalformedJSON, "decoding custom_attributes: %v", err)
		}
	}

	var c Contact
	var err error
	if c.BrazeID, err = identifier(u.BrazeID); err != nil || c.BrazeID == "" {
		return Contact{}, recordErr(ReasonNoBrazeID, "the record has no braze_id string")
	}
	if c.ExtID, err = identifier(u.ExternalID); err != nil {
		return Contact{}, recordErr(ReasonNoIdentifier, "external_id: %v", err)
	}
	if m.emailSource != "" {
		raw := lookup(&u, custom, m.emailSource, m.emailTop)
		v, err := decodeValue(raw)
		if err != nil {
			return Contact{}, recordErr(ReasonMalformedJSON, "%s: %v", m.emailSource, err)
		}
		if !v.empty() {
			if v.kind != kindString {
				return Contact{}, recordErr(ReasonInvalidEmail, "%s is %s, not an email address", m.emailSource, v.kind)
			}
			if c.Email, err = normalizeEmail(v.str); err != nil {
				return Contact{}, recordErr(ReasonInvalidEmail, "%s: %v", m.emailSource, err)
			}
		}
	}
	switch {
	case c.ExtID != "":
		c.Key = c.ExtID
	case c.Email != "":
		c.Key = "email:" + c.Email
	default:
		return Contact{}, recordErr(ReasonNoIdentifier, "the record has neither external_id nor %s", orNone(m.emailSource))
	}

	c.Attributes = make(map[string]any, len(m.rules))
	for i := range m.rules {
		r := &m.rules[i]
		out, warn := m.mapRule(r, &u, custom)
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
func (m *Mapper) mapRule(r *rule, u *exportUser, custom map[string]json.RawMessage) (any, string) {
	raw := lookup(u, custom, r.source, r.top)
	if r.how == pushOptIn && raw == nil {
		// Derived: Braze exports push_subscribe, not a boolean.
		ps, err := decodeValue(u.PushSubscribe)
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
		e164, err := normalizePhone(v.str, m.phoneRegion(u))
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
func (m *Mapper) phoneRegion(u *exportUser) string {
	v, err := decodeValue(u.Country)
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

// lookup finds a mapped field: a top-level export field, or else a custom
// attribute of that name.
func lookup(u *exportUser, custom map[string]json.RawMessage, name string, top bool) json.RawMessage {
	if top {
		return u.field(name)
	}
	return custom[name]
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
