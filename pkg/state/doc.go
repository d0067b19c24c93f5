// Package state keeps what the connector must remember between runs in the
// proto.BucketState key-value bucket: sync runs, the latest run of each
// resource, cursors, leases and health reports. What became of each line of
// a run is not here but in the run's ledger (pkg/ledger).
//
// Contracts:
//   - A Store is safe for concurrent use.
//   - Absent cursors read as ""; absent runs return ErrNotFound.
package state
