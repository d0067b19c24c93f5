//go:build !unix

package audit

import (
	"os"
	"time"
)

// lockSpool does nothing where there is no flock.
func lockSpool(*os.File) error { return nil }

// spoolFree takes a file nobody wrote to for a minute as free: without
// flock, a live writer cannot be told apart otherwise.
func spoolFree(f *os.File) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	return time.Since(fi.ModTime()) > time.Minute, nil
}
