// Package loader is the last stage of the pipeline: it reads contact upserts
// from ops.brevo.contacts.upsert and writes them to Brevo, in bulk through
// POST /contacts/import (one import at a time, its process polled sparingly)
// when many are waiting, or one by one through POST /contacts for a trickle.
//
// An upsert is acknowledged only after Brevo confirmed it; its fingerprint is
// recorded then, so the next sync skips it. Retryable vendor errors (429, 5xx,
// timeouts) are naked with a delay; a record Brevo refuses is dead-lettered
// with Brevo's error. emailBlacklisted/smsBlacklisted are never sent.
package loader
