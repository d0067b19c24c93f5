// Package chaos proves the users pipeline loses nothing under faults: it
// runs a full sync with the three workers as separate processes on an
// external nats-server, against a sandbox injecting vendor faults, while it
// SIGKILLs and restarts each worker kind and restarts nats-server on its
// file store; then it runs the same sync fault-free, in one process, on a
// second sandbox with the same users, and compares what both Brevo
// simulators hold.
//
// The nats-server requires a user and password, as a deployment's does:
// generated per run, in a 0600 config file (never on its command line,
// which ps shows), and given to the workers in NATS_URL in their
// environment.
//
// Chaos moments are chosen by progress, not by clock: each event fires
// when the stage it disturbs is mid-work (a fraction of the users drawn
// from the seed has been exported or transformed), so a slow or fast
// machine still kills workers with messages in flight.
//
// The comparison is exact but for users who share an email or a phone:
// Brevo keeps email and SMS unique, so which of them owns the identifier
// depends on processing order, which kills and redeliveries change. For
// those groups the run checks that exactly as many contacts hold the
// identifier as in the reference, that the holder is one of the group, and
// that no contact is duplicated.
//
// Run is not safe for concurrent use with itself on one work directory.
package chaos
