// Package gen generates realistic Braze users, deterministically.
//
// Every line is a pure function of (seed, index, version): the generator keeps
// no per-user state, so an export of millions of users can be streamed in
// constant memory, and a test can regenerate exactly what a simulator served.
//
// The data carries the quirks real Braze exports have: missing external_id or
// email, upper-case and padded emails, a few invalid emails, phones in national
// and international formats (and some garbage), Rails time-zone names, two
// created_at formats, custom attributes of every type, apps.sessions as a
// string or an integer, and duplicated phones and emails between users.
//
// What real Braze never sends is an option, off by default so the default
// data is Braze's: WithMalformedLines breaks one export line in 2,000
// (truncated JSON, an array, an object without braze_id) for tests of a
// client's dead-lettering.
//
// Identifiers are derived from the index so a simulator can look users up
// without an index in memory: external_id is "cust_" followed by the zero-padded
// user index (see ExternalID), braze_id is a 24-hex ObjectID-like string whose
// last 16 hex digits are an invertible permutation of the index (see
// IndexOfBrazeID), valid emails end their local part with the index of the
// user they were made for, and phones carry the index modulo 1,000,000 in
// their last six digits.
//
// A Generator is immutable and safe for concurrent use.
package gen
