// Package bench measures the users pipeline end to end against a bare
// JetStream baseline run on the same server, in the same process, with the
// same messages, so the ratio between them means something on a shared and
// noisy machine.
package bench
