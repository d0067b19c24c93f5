package mapping

import "sort"

// ExportFields returns what a Braze segment export must include for this
// mapping: the top-level fields_to_export (identifiers and what the rules
// read, including the fields derived values depend on) and, when rules read
// custom attributes, the custom_attributes_to_export that limit them.
func (m *Mapper) ExportFields() (fields, customAttributes []string) {
	set := map[string]bool{"braze_id": true, "external_id": true, "email": true}
	if m.emailSource != "" && m.emailTop {
		set[m.emailSource] = true
	}
	for _, r := range m.rules {
		switch {
		case r.how == pushOptIn:
			// Derived from push_subscribe unless a custom attribute holds it.
			set["push_subscribe"] = true
			set["custom_attributes"] = true
			customAttributes = append(customAttributes, r.source)
		case r.how == phone:
			set[r.source] = true
			set["country"] = true // the phone's region
		case r.top:
			set[r.source] = true
		default:
			set["custom_attributes"] = true
			customAttributes = append(customAttributes, r.source)
		}
	}
	if m.emailSource != "" && !m.emailTop {
		set["custom_attributes"] = true
		customAttributes = append(customAttributes, m.emailSource)
	}
	for f := range set {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	sort.Strings(customAttributes)
	return fields, customAttributes
}
