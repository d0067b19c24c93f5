// Package mapping turns one line of a Braze user export into one Brevo
// contact: it picks the configured fields, coerces each value to the type of
// its Brevo attribute, normalises phones to E.164 and emails to lower case,
// and says why a record cannot be mapped.
//
// Choices that shape what reaches Brevo:
//
//   - A field that is missing, null, an empty string or an empty array is
//     left out of Contact.Attributes, never sent as "" or null: Braze exports
//     omit unknown values, and sending an empty value would wipe data another
//     tool wrote in Brevo.
//   - A value that cannot be coerced drops only its attribute and adds a
//     warning; the record still syncs. Warnings name the attribute and the
//     reason, never the value (values are personal data and warnings get
//     logged).
//   - A record that cannot be a contact at all (not a JSON object, no
//     braze_id, no usable identifier) is a *RecordError whose Reason is a
//     short token fit for a DLQ subject.
//   - push_opted_in is not a Braze export field: it is derived as
//     push_subscribe == "opted_in", unless the user has a custom attribute of
//     that name, which wins.
//   - The Brevo target "email" is the contact's email identifier, not an
//     attribute. An invalid address (invalid UTF-8 included) of a user an
//     external id identifies is left off the contact (Contact.LeftOff says
//     so, with the reason invalid_email): no user is lost to one bad field.
//     Without an external id it is a RecordError (invalid_email).
//
// Speed: a sync maps millions of users, so Map reads the line with a
// one-pass validating scanner that slices out only the mapped values
// (scan.go), and phones in the common shapes skip phonenumbers.Parse
// (phone.go). BenchmarkMap: ~12 µs for a 2.6 KB export line on the 2-core
// reference machine, about 4x faster than encoding/json plus Parse.
// BrazeID reads a line's braze_id with the same scanner and rule, for the
// extractor: a line is judged a user once, the same way in both stages.
//
// A Mapper is immutable after New and safe for concurrent use.
package mapping
