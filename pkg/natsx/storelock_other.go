//go:build !unix

package natsx

import "os"

// lockFile does not lock where flock is not available: there, keep one
// server per store by hand.
func lockFile(*os.File) error { return nil }
