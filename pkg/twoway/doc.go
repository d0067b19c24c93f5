// Package twoway decides what a two-way sync between Braze and Brevo
// writes, so that each side gets the other's changes once, the connector's
// own writes never bounce back, and a field changed on both sides resolves
// as its conflict policy says.
//
// Fields travel as field_mapping says, each in a direction
// (braze_to_brevo, the default; brevo_to_braze; both) with, for both, a
// conflict policy (newest_wins, the default; braze_wins; brevo_wins: see
// Conflict). Values are compared in Brevo's types, as the forward mapping
// produces them and Brevo returns them, by a hash per field.
//
// State: a Record per contact key (pkg/kvmap: sharded keys, not one per
// contact) holding, per two-way field, the hash of the value both sides
// agree on, and while a Brevo change is on its way its value and times;
// and an EmailState per address Brevo unsubscribed. The forward direction
// records, for every user an export shows, what Braze holds (Forward); the
// reverse one compares what Brevo tells (a poll or a webhook) with it
// (Reverse). A change the connector wrote itself reads as no change: the
// hash it compares with is the one of what it wrote (and a webhook naming
// the connector's API key is dropped at once).
//
// Braze keeps no modification time for user attributes, so a Braze change
// is dated by the export that first shows it; Brevo's by its modifiedAt
// (a webhook's ts). See Conflict for what each policy does with that.
//
// Decisions are pure functions of what was observed and the record
// (decide.go); a Syncer reads the records, decides, publishes the writes
// the decisions ask for (with deterministic message ids), then writes the
// records with compare-and-set, deciding again on the value it replaces.
// A Syncer is safe for concurrent use.
package twoway
