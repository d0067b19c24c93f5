// Package state keeps what the connector must remember between runs in the
// proto.BucketState key-value bucket: sync runs, the latest run of each
// resource, cursors, and each worker instance's counters per run.
//
// Contracts:
//   - A Store and a Counter are safe for concurrent use.
//   - Each worker instance writes only its own counter key
//     (proto.CounterKey(run, stage, instance)); readers sum across
//     instances, so replicas never contend on a key.
//   - A Counter persists a full snapshot on every Add, serialised so an older
//     snapshot never overwrites a newer one.
//   - Absent cursors read as ""; absent runs return ErrNotFound.
package state
