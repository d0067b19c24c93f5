// Package secrets keeps the connectors' API keys encrypted at rest in the
// state directory, so that they need not live in the environment of every
// shell or in the config file.
//
// The store is one file, credentials.enc: a version byte, a 12-byte random
// nonce (fresh on every write) and the AES-256-GCM sealed JSON of every
// connector's Credentials, with the version byte as additional data so that
// it cannot be altered either. A wrong master key and a modified file both
// fail to open: GCM cannot tell them apart, and neither yields a key.
//
// The 32-byte master key comes from TAJO_MASTER_KEY (64 hex digits or
// base64), or else from the key file master.key beside the store, created
// with mode 0600 on the first write. Moving the state directory to another
// machine therefore needs the key file, or the same TAJO_MASTER_KEY.
//
// Writes go to a temporary file that is renamed over the store, so a crash
// leaves the old or the new file, never half of one. A Store is safe for
// concurrent use within one process; two processes writing at the same
// moment may lose one of the writes (installs are rare, interactive acts).
package secrets
