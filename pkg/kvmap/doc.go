// Package kvmap is a string-to-string map kept in a JetStream key-value
// bucket, read and written in batches: the connector's memory of what it
// sent (fingerprints: record key -> hash of the content confirmed at the
// vendor) and of who owns a unique vendor identifier (claims: "email:x" ->
// record key), so a sync sends only what changed and two source records never
// merge into one contact.
//
// Entries are grouped into shards, each a msgpack map from a 12-byte hash
// of the entry's key to its value. A KV key per record would make the
// server's per-subject index grow with the number of users (about 150 bytes
// each, in memory); a shard holds a few dozen. There are 65,536 base shards;
// a shard written with more than 24 entries is sealed and its entries move
// to its two children (the next bit of their hash), which are stored at
// their first write; once both are, the sealed shard gives up its copy.
// Writing a key rewrites its shard, so sealing keeps that cost the same at
// a hundred thousand keys and at fifty million, where a
// fixed number of shards made it grow with the keys (46 entries a shard at
// three million users). Each Map remembers the seals of the first levels it
// has seen, so a read usually goes straight to the right shard.
//
// Reads use JetStream's multi-subject direct get, one request per 1,000
// shards; writes are compare-and-set on each shard's last sequence, so
// concurrent writers (loader replicas, batches in flight) never lose each
// other's entries: a conflicting shard is read again, merged and written
// again. A sealed shard is never written again, so a writer that read it
// before it was sealed fails and reads the children instead.
//
// A Map is safe for concurrent use.
package kvmap
