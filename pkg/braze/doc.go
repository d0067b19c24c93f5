// Package braze is a typed client for the parts of the Braze REST API the
// connector uses: segment listing, asynchronous segment exports (and reading
// the ZIP of NDJSON they produce), and small look-ups by id.
//
// A Client is safe for concurrent use. It does not retry: every method
// returns errors that Retryable and RetryAfter classify, so the caller (a
// worker with its own backoff, breakers and rate limiters) decides. What the
// client does on its own is honour Braze's X-RateLimit-* headers: once a
// bucket reports zero remaining, the next call on that bucket waits, bounded
// by its context, until the reset the headers announced.
//
// Middleware (rate limiters, breakers, tracing, recording) is inserted through
// Config.HTTPClient, usually as its Transport; Config.Observer sees every HTTP
// call after it completes, for audit logs and metrics. The API key is never
// put in an error, a Call or a formatted Config.
package braze
