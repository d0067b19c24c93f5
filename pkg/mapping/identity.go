package mapping

import "sort"

// IdentityFields is what a Braze segment export must include for Identity:
// the top-level fields_to_export and the custom_attributes_to_export (the
// email may come from a custom attribute).
func (m *Mapper) IdentityFields() (fields, customAttributes []string) {
	set := map[string]bool{"braze_id": true, "external_id": true, "email": true}
	if m.emailSource != "" && m.emailTop {
		set[m.emailSource] = true
	}
	if m.emailSource != "" && !m.emailTop {
		set["custom_attributes"] = true
		customAttributes = []string{m.emailSource}
	}
	for f := range set {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	return fields, customAttributes
}

// Identity reads the identifiers of one export line as Map reads them: the
// braze_id, the ext_id and the email (normalized), without mapping any
// attribute. An email that is not valid reads as "" (Map would sync the
// contact without it, or not at all). A line that is not a JSON object with
// a braze_id string is a *RecordError.
func (m *Mapper) Identity(line []byte) (brazeID, extID, email string, err error) {
	rec, err := m.read(line)
	if err != nil {
		return "", "", "", recordErr(ReasonMalformedJSON, "reading the export line: %v", err)
	}
	if brazeID, err = identifier(rec.top[slotBrazeID]); err != nil || brazeID == "" {
		return "", "", "", recordErr(ReasonNoBrazeID, "the record has no braze_id string")
	}
	if extID, err = identifier(rec.top[slotExternalID]); err != nil {
		extID = "" // as Map, which refuses the record: no contact carries it
	}
	if m.emailSource != "" {
		if v, err := decodeValue(rec.raw(m.emailTop, m.emailSlot)); err == nil && v.kind == kindString {
			if e, err := normalizeEmail(v.str); err == nil {
				email = e
			}
		}
	}
	return brazeID, extID, email, nil
}
