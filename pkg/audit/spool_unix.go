//go:build unix

package audit

import (
	"errors"
	"os"
	"syscall"
)

// lockSpool takes an exclusive advisory lock on f without waiting. It goes
// with the process: a file of a killed process is free.
func lockSpool(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) }

// spoolFree reports whether no live process holds f, locking it if so.
func spoolFree(f *os.File) (bool, error) {
	err := lockSpool(f)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}
