//go:build !unix

package extractor

import "os"

// lockExport does nothing where there is no flock.
func lockExport(*os.File) error { return nil }

// staleExport cannot tell a live download from a left one without flock:
// nothing is removed there.
func staleExport(*os.File) (bool, error) { return false, nil }
