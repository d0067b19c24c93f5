// Package brevo is a typed client for the parts of the Brevo API v3 the
// connector writes to and reads from: contact attributes, single contact
// upserts, bulk imports (with a pre-encoding ImportBatch for the hot path)
// and their background processes, contact reads, and the folders and lists
// contacts are imported into (EnsureList finds or makes the connector's list;
// AddToList and RemoveFromList change membership 150 contacts at a time).
//
// A Client is safe for concurrent use (an ImportBatch is not). It does not
// retry: every method returns errors that Retryable, RetryAfter and
// DuplicateIdentifiers classify, so the caller decides. What the client does
// on its own is honour Brevo's x-sib-ratelimit-* headers: once a bucket
// reports zero remaining, the next call on that bucket waits, bounded by its
// context, until the announced reset.
//
// Middleware (rate limiters, breakers, tracing, recording) is inserted through
// Config.HTTPClient, usually as its Transport; Config.Observer sees every HTTP
// call after it completes. The API key is never put in an error, a Call or a
// formatted Config, and contact identifiers (emails) are kept out of the
// paths errors and Calls report.
package brevo
