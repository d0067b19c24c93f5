// Package extractor is the first stage of the pipeline: it asks Braze for a
// segment export, waits for it to be ready, downloads the ZIP to a temporary
// file and publishes every NDJSON line to raw.braze.users, line by line,
// never holding the export in memory.
//
// A line that is not a JSON object with a braze_id is dead-lettered with the
// reason; the rest goes on. Each run is recorded in the state bucket, and
// another process can ask for a run with a request on proto.SubjectSyncRequest.
package extractor
