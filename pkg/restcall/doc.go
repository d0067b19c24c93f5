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
//   - the call itself (Caller): the wait for a spent bucket's reset, the
//     per-call timeout, the client span, the answer's rate-limit headers, a
//     redirect refused, the vendor's error built (by the vendor's package),
//     the JSON answer decoded so that a cut connection is told apart from a
//     malformed body, the body closed so the connection is reused, and the
//     Call observed; base-URL validation and the transport.
//
// What differs per vendor beyond that stays in the vendor's package: error
// body shapes and messages, how a request is built and authenticated, and
// which calls share a bucket. Caller, Limits, Recorder, ManualClock and
// SystemClock are safe for concurrent use; a ReadErr belongs to the one
// goroutine reading it.
package restcall
