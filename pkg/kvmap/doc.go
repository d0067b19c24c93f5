// Package kvmap is a string-to-string map kept in a JetStream key-value
// bucket, read and written in batches: the connector's memory of what it
// sent (fingerprints: record key -> hash of the content confirmed at the
// vendor) and of who owns a unique vendor identifier (claims: "email:x" ->
// record key), so a sync sends only what changed and two source records never
// merge into one contact.
//
// Entries are grouped into a fixed number of shards (65,536 KV keys), each a
// msgpack map from a 12-byte hash of the entry's key to its value. A KV key
// per record would make the server's per-subject index grow with the number
// of users (about 150 bytes each, in memory); shards keep it constant. Reads
// use JetStream's multi-subject direct get, one request per 1,000 shards;
// writes are compare-and-set on each shard's last sequence, so concurrent
// writers (loader replicas, batches in flight) never lose each other's
// entries: a conflicting shard is read again, merged and written again.
//
// A Map is safe for concurrent use.
package kvmap
