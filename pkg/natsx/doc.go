// Package natsx connects to NATS, runs an embedded JetStream server, and
// provisions the streams and key-value buckets the connector relies on.
//
// Contracts:
//   - Provision is idempotent: every process calls it at start-up, several at
//     once if they like; the last identical configuration wins and nobody fails.
//   - Connect reconnects forever; the returned connection is owned by the
//     caller, who drains it at shutdown.
//   - Embedded is safe for concurrent use; Shutdown waits until the server has
//     stopped and its store is flushed.
package natsx
