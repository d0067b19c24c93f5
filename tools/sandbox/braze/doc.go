// Package braze simulates the Braze REST API endpoints the connector reads,
// over real HTTP, from Braze's documentation and the community OpenAPI spec.
//
// It serves GET /segments/list, POST /users/export/segment (asynchronous: the
// returned URL answers an S3-style 403 until the export is ready, then streams
// a ZIP of NDJSON files built on the fly from a gen.Generator) and POST
// /users/export/ids, with Bearer-key authentication, per-key permissions,
// Braze's error bodies and its per-endpoint rate limits and X-RateLimit-*
// headers. Users change over time through Mutate or POST /_admin/users/mutate
// (a version bump edits their mapped fields), or lose fields through
// RemoveFields or the same endpoint with "remove" (an unset attribute leaves
// the export). Segments keep their members between exports until
// MoveMembers, SetMembership or POST /_admin/segments/{id}/members moves
// users in or out (an export shows the segment as it was when requested);
// GET /_admin/state reports what the simulator saw, so tests
// can assert on it. The /_admin endpoints take no key and answer loopback clients only.
//
// Keys hold any subset of the twelve permissions the product page names
// (PagePermissions; AddKey). The endpoints behind them (permissions.go)
// check keys, budgets and input as Braze does. The writes are applied
// (track.go): POST /users/track (at most 75 objects in all, partial
// success with errors[] by array and index, users created for unknown
// external ids and, with _update_existing_only false, aliases),
// /email/status, /subscription/status/set and /users/delete; what they
// write lies over the generated users (profiles.go), so the next export or
// look-up shows it. TrackLog and GET /_admin/track give every write
// request seen; FailTrack (POST /_admin/track/fail) makes chosen objects
// fail, for tests of a client's partial-failure handling.
//
// Look-ups by identifier need no index in memory: the generator derives
// external_id, braze_id, emails and phones from the user's index and can parse
// them back (see package gen). Memory is flat in the number of users: only
// the changes of users that changed are stored.
//
// A Server is safe for concurrent use.
package braze
