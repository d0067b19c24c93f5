// Package restcall is the plumbing the vendor REST clients (pkg/braze,
// pkg/brevo) share: classifying transport failures and HTTP statuses as
// worth retrying, reading a bounded error body, decoding a JSON answer so
// that a cut connection is told apart from a malformed body, closing bodies
// so connections are reused, context-aware waiting, base-URL validation, and
// the per-bucket bookkeeping of rate-limit headers. Recorder and ManualClock
// stand in for a client's observer and clock in tests.
//
// What differs per vendor stays in the vendor's package: error types and
// their messages, error body shapes, header names, what a reset header means,
// and which calls share a bucket. Limits, Recorder and ManualClock are safe
// for concurrent use; a ReadErr belongs to the one goroutine reading it.
package restcall
