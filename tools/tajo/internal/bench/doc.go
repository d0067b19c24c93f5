// Package bench measures the users pipeline against the targets of issue
// 10: throughput as a ratio to a bare two-hop JetStream baseline run on the
// same server in the same run, the all-in-one process's peak RSS, each
// process's peak RSS in the production shape (read from /proc/<pid>/status
// by PID), incremental syncs' writes and time, the JetStream store after
// each sync, and a full sync under the vendors' limits. The sandbox runs in
// a child process (this binary again, see StartSandbox), so its memory is
// never counted as the connector's.
package bench
