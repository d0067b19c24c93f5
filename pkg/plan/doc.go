// Package plan collects what a dry run would write and prints it: Brevo
// contacts to create and to update (with attribute-level diffs against the
// contacts Brevo holds now, on request), attributes to create, list changes
// and events to send.
//
// A Plan is the loader's dry-run Planner: the loader hands it each upsert
// it would have sent (services/loader, Config.DryRun). A Plan is safe for
// concurrent use. Nothing in this package writes to a vendor: FetchDiffs
// only reads contacts.
package plan
