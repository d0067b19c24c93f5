//go:build unix

package extractor

import (
	"errors"
	"os"
	"syscall"
)

// lockExport takes an exclusive advisory lock on f; it goes with the
// process, so a killed extractor leaves no lock behind.
func lockExport(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// staleExport reports whether no process holds f's lock (and takes it).
func staleExport(f *os.File) (bool, error) {
	err := lockExport(f)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}
