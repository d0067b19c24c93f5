// Package loader is the last stage of the pipeline: it reads contact upserts
// from ops.brevo.contacts.upsert and writes them to Brevo.
//
// Each upsert is encoded once, as it arrives, into the row Brevo is to be
// sent (prepare.go), and a batch is cut by those rows' bytes, so that on a
// full sync one batch is one import filled to max_import_bytes. The loader
// alone decides whether a write creates or updates, which identifiers a
// contact is written without (claims.go) and which attributes it clears
// (cleared.go); then one sink (sink.go) writes the rows: POST
// /contacts/import (one import at a time, the import lease across
// replicas; a refused import bisected), POST /contacts one by one for a
// trickle, or a dry run's plan. Every sink leaves Brevo in the same state
// (sink_contract_test.go). When an import finished is learned from Brevo's
// call of its notifyUrl, relayed by the gateway over NATS, or else by
// polling GET /processes within a budget every replica shares
// (completion.go, pace.go).
//
// An upsert is acknowledged only after Brevo confirmed it; its fingerprint is
// recorded then, so the next sync skips it. Retryable vendor errors (429, 5xx,
// timeouts) are naked with a delay; a record Brevo refuses is dead-lettered
// with Brevo's error. emailBlacklisted/smsBlacklisted are never sent.
package loader
