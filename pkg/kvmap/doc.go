// Package kvmap is a string-to-string map kept in a JetStream key-value
// bucket, read and written in batches: the connector's memory of what it
// sent (fingerprints: record key -> hash of the content confirmed at the
// vendor) and of who owns a unique vendor identifier (claims: "email:x" ->
// record key), so a sync sends only what changed and two source records never
// merge into one contact.
//
// Keys are hashed, so any identifier (emails, free-form external ids) is a
// valid KV key. A Map is safe for concurrent use.
package kvmap
