// Package apikeys keeps the Tajo API keys that authenticate calls to the
// gateway's control API: a file of key hashes under the state directory.
//
// A key is shown once, when created; only its SHA-256 is stored, so the
// file holds nothing that opens the API. Verify compares hashes in constant
// time and reloads the file when it changed on disk, so a key revoked by
// `tajo apikeys revoke` is refused by a running gateway at its next call.
//
// A Store is safe for concurrent use within one process; between processes
// the file is replaced atomically (a rename), the last writer winning.
package apikeys
