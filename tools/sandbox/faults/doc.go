// Package faults injects the failures vendors' APIs show on their bad days —
// 429 storms, 5xx bursts, timeouts, connection resets, lost answers, truncated
// bodies and latency — into the sandbox simulators, so the connector's
// retries, rate limiting and circuit breakers can be proven against them.
//
// A Spec says how often each fault happens (Parse reads the
// "429=0.02,5xx=0.05,latency=20ms±10ms" form); Wrap turns it into an
// http.Handler in front of a simulator's endpoints (never /_admin/, which
// tests and operators rely on). Which fault a request gets is a pure
// function of the seed and the request's number in arrival order, so the
// same seed and the same sequence of requests give the same faults.
// Concurrent clients reorder requests, and with them which request draws
// which fault: the mix and rates stay, the assignment to requests does not.
//
// Faults are applied before the wrapped handler runs, so a faulted request
// has no effect on the simulator's state (a 5xx'ed import did not happen),
// with two deliberate exceptions: truncate needs the real answer to cut it,
// and lost models the nastiest real case, "the vendor did the write but the
// answer never arrived": the handler runs, then the connection is reset.
//
// Simulators that count requests by status learn the pseudo-status of a
// fault that leaves no HTTP status ("timeout", "reset", "lost",
// "truncated") when the ResponseWriter given to the Injector has a
// RecordFault(status string) method. Resets and drops hijack the
// connection, which needs HTTP/1.x (the sandbox serves nothing else).
package faults
