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
//   - Embedded requires a user and a password generated at its start: nobody
//     else on the machine may read the DLQ or publish upserts. Connect knows
//     the credentials of the servers this process started (ClientURL stays
//     free of them, safe to print); another process gets them from AuthURL
//     (in its environment) or from the 0600 file in the store (WithStoreAuth).
//   - Connect reads the standard NATS environment: NATS_USER/NATS_PASSWORD,
//     NATS_CREDS, NATS_NKEY, NATS_CA, NATS_CERT/NATS_KEY (see the Env
//     constants); a server that refuses the credentials fails Connect at once.
package natsx
