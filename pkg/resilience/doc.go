// Package resilience keeps the connector inside the vendors' rate limits and
// away from a failing vendor: per-bucket rate limiters that adapt to the
// vendors' rate-limit headers, a retry policy (exponential backoff with
// jitter, bounded by attempts and total time), circuit breakers per vendor
// endpoint, and an http.RoundTripper that composes them for pkg/braze and
// pkg/brevo clients.
//
// # Buckets
//
// A bucket is one of a vendor's documented rate-limit pools (Brevo: every
// /contacts endpoint shares one; Braze: /users/track has its own, most read
// endpoints share one hourly pool). A request maps to a bucket by method and
// path; each bucket has a limiter and a circuit breaker.
//
// Limits shorter than an hour are paced with a token bucket (x/time/rate,
// burst 1) at Headroom times the documented rate, so the vendor's fixed
// windows, whose alignment we cannot see, never hold more than the limit.
// Hourly pools are quotas counted in windows aligned on the clock hour, as
// the vendors reset them. On top of that each response's X-RateLimit-* /
// x-sib-ratelimit-* headers adapt the bucket: once less than SpreadBelow of a
// long window remains, the remaining budget is spread evenly over the time
// left; a 429 blocks the bucket until the reset the headers announce.
//
// # Replicas
//
// Several replicas of a worker share a bucket's budget by splitting it:
// with Limits.Replicas = N each replica paces itself at 1/N of every limit
// (whole requests per window, rounded down, so that N replicas together
// never exceed the limit in any window) and spreads 1/N of the remaining
// budget the headers report. This was chosen over a shared budget in NATS KV
// because a KV budget costs a round trip (or a lease protocol) per request on
// the hot path, turns a NATS hiccup into stalled vendor calls, and the vendor
// already tells every replica the shared remaining budget in its headers,
// which corrects any drift. The price is idle replicas' unused shares; set
// Replicas to the number of replicas that actually call the vendor.
//
// # Retries
//
// One layer retries each kind of call, never two. Where a message is behind
// a call, retries are JetStream redeliveries (pkg/pipeline naks with its
// backoff), so a killed worker loses nothing. Policy.Do, on the guard's
// clock (Guard.Retry, the configured resilience.retry), retries calls with
// no message behind them (finding a segment, requesting an export, start-up
// checks). A wait (braze WaitExport, brevo WaitProcess) only polls: its next
// poll is the retry, and nothing wraps it. The Transport never retries.
//
// # Breakers
//
// 5xx answers, timeouts, connection resets and truncated bodies count as
// failures; 4xx answers (429 included: the limiter deals with those) never
// trip a breaker. While a vendor's breaker is open Breakers.Open reports
// true; wire it to pipeline.Config.Paused so the worker stops fetching, and
// resumes when the breaker turns half-open and lets a probe through.
//
// All types are safe for concurrent use.
package resilience
