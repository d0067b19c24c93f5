// Package app wires the connector's services into one process: the Braze
// and Brevo clients, the field mapping, and the extractor, transformer and
// loader on one NATS connection. `tajo run` and the end-to-end tests use it;
// the separate service binaries wire the same pieces one at a time.
//
// Wait follows a run through the state bucket only, so it works the same
// against an in-process pipeline and a remote deployment.
package app
