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
// No entry is lost ("all API calls logged" is a compliance promise): entries
// go through a bounded buffer to one background publisher, in order; when
// the buffer is full (NATS slow or down) Record waits for room, so the
// vendor calls slow down with their audit trail instead of outrunning it
// (back-pressure, logged once per streak); a failed publish is retried with
// backoff, under a message id so that a retry is stored once. What is still
// unpublished when the Recorder closes goes to a durable local spool
// (Options.Spool: append-only files, fsynced, mode 0600), and so does every
// entry of a Recorder without a bus (the CLI's own calls). A Recorder with
// a bus ships the spool to the AUDIT stream at start and every
// Options.SpoolEvery. Only a Recorder with no spool, or a spool that cannot
// be written, can lose an entry, and Close then says how many.
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
