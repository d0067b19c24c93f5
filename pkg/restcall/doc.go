// Package restcall is the one home of the plumbing the vendor REST clients
// (pkg/braze, pkg/brevo) and the layers around them (pkg/resilience,
// pkg/audit, pkg/bootstrap) share, so that none of those layers needs a
// vendor client for its types:
//
//   - the call record (Call) handed to observers, and the attempt key
//     (WithAttempt, AttemptOf) a retry layer marks its calls with;
//   - the error base: StatusError (status, message, rate-limit reset,
//     Retryable, RetryAfter), which each vendor's APIError embeds and
//     unwraps to, TransportError, ErrNotReady, and Retryable/RetryAfter on
//     any error;
//   - the one exponential Backoff (polls use it as is; the retry policy and
//     the redelivery delay add their jitter), and the one Clock every wait
//     goes through (SystemClock; ManualClock in tests);
//   - the vendors' names and rate-limit headers (Headers.Read), and the
//     per-bucket bookkeeping of what they said (Limits);
//   - reading a bounded error body, decoding a JSON answer so that a cut
//     connection is told apart from a malformed body, closing bodies so
//     connections are reused, base-URL validation, the transport and the
//     client span of a call.
//
// What differs per vendor beyond that stays in the vendor's package: error
// body shapes and messages, and which calls share a bucket. Limits,
// Recorder, ManualClock and SystemClock are safe for concurrent use; a
// ReadErr belongs to the one goroutine reading it.
package restcall
