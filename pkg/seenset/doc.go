// Package seenset remembers which ids were seen in the last few days, in
// bounded memory, with JetStream as its durable copy: the loader's
// deduplication of Braze events, which Currents delivers at least once and
// re-sends for up to five days.
//
// Why not the stream's Nats-Msg-Id dedup or a KV bucket? The stream's dedup
// lasts its window (30s here): every id of the window is held in the
// server's memory, so five days of it would cost the server far more than
// the ids themselves. A KV key per id keeps a per-subject index entry in
// the server (tens of bytes each, plus the key) and a read per event.
//
// A Set instead keeps 8 bytes per id (the first 8 bytes of its SHA-256) in
// time buckets (default one hour): the current bucket is a hash set, older
// buckets are sealed into sorted slices searched by bisection, and buckets
// older than the window are dropped whole. Ids are persisted as batches (one
// message of 8-byte hashes per Add) on the EVENTS_SEEN stream, whose MaxAge
// is the window; a Set replays the stream when it opens and follows it
// afterwards, so replicas and restarts share what every replica wrote.
// Memory is bounded by MaxIDs: past it the oldest bucket is forgotten
// early (and logged).
//
// A false positive needs two ids among n to share 64 bits: about n²/2⁶⁵,
// 1 in 15,000 at 50 million ids in the window. Two replicas handling the
// same id at the same moment can both miss it: the stream carries one
// event to one replica at a time, so that takes a re-send racing the
// first delivery across replicas.
//
// A Set is safe for concurrent use.
package seenset
