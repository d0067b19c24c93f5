// Package audit records every vendor API call in the AUDIT stream and reads
// it back.
//
// A Recorder turns the Call a braze or brevo client hands its Observer into
// an Entry (time, vendor, method, path template, status, duration, attempt,
// run id, calling service, error class) and publishes it on
// audit.<vendor>. An Entry never holds a secret or personal data: the path is
// reduced to a template (no query, ids and e-mails replaced by {id}) and an
// error is kept as its class only, since error texts can echo request
// values.
//
// Publishing never holds up the vendor call that is being recorded: entries
// go through a bounded buffer to one background publisher. When the buffer
// is full (NATS down or far behind) new entries are dropped, counted
// (Recorder.Dropped) and logged, once per streak. The trade-off is
// deliberate: a sync slowed or stopped by its own audit trail is worse than
// a gap in that trail, and the gap is visible. Flush and Close wait for what
// is buffered.
//
// Run ids: the clients' Observer receives no context, so an entry cannot be
// tied to the request that made it. A Recorder stamps the run it was last
// told about (SetRun), and FollowRuns keeps that current by watching the
// state bucket's last-run key, which is how the extractor and loader of a
// deployment learn of a run without being told. Calls made between runs
// carry the last run; two runs of one resource never overlap (the extractor
// refuses a second while one runs), but the loader may still be writing the
// tail of run N when run N+1 starts, and those calls are stamped N+1.
//
// A Recorder is safe for concurrent use.
package audit
