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
// (PagePermissions; AddKey). The endpoints behind those the connector does
// not sync yet (permissions.go: /users/track, /email/status,
// /subscription/status/set, the campaign, Canvas and segment data series,
// /canvas/list, /catalogs/{name}/items) check keys, budgets and input as
// Braze does; their writes are validated, not applied (501 once valid).
//
// Look-ups by identifier need no index in memory: the generator derives
// external_id, braze_id, emails and phones from the user's index and can parse
// them back (see package gen). Memory is flat in the number of users: only
// the changes of users that changed are stored.
//
// A Server is safe for concurrent use.
package braze
