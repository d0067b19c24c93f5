package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// storeLockName is the file in a NATS store directory that the process
// serving the store holds locked, and in which it writes its client URL.
const storeLockName = "tajo.lock"

// storeLock is the exclusive hold of one process on a local NATS store: a
// nats-server does not lock its store, and two servers on one store
// corrupt it.
type storeLock struct {
	f *os.File
}

// storeBusyError says another process holds the store, and where that
// process serves it when it said so.
type storeBusyError struct {
	Dir string
	URL string // "" when the holder has not published one (yet)
}

func (e *storeBusyError) Error() string {
	msg := "the NATS store " + e.Dir + " is in use by another tajo process"
	if e.URL != "" {
		msg += " (serving " + e.URL + ")"
	}
	return msg
}

// lockStore takes the lock of the store in dir, creating dir if needed. It
// returns a *storeBusyError when another process holds it. The lock goes
// with the process, so a killed tajo leaves no stale lock behind.
func lockStore(dir string) (*storeLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the NATS store %s: %w", dir, err)
	}
	path := filepath.Join(dir, storeLockName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the store lock %s: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			url, _ := os.ReadFile(path)
			return nil, &storeBusyError{Dir: dir, URL: strings.TrimSpace(string(url))}
		}
		return nil, fmt.Errorf("locking the NATS store %s: %w", dir, err)
	}
	return &storeLock{f: f}, nil
}

// publish writes the URL the store is served on, for other commands to
// name in their advice.
func (l *storeLock) publish(url string) error {
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("writing the store lock %s: %w", l.f.Name(), err)
	}
	if _, err := l.f.WriteAt([]byte(url+"\n"), 0); err != nil {
		return fmt.Errorf("writing the store lock %s: %w", l.f.Name(), err)
	}
	return nil
}

// unlock empties the URL (nobody serves the store any more) and releases
// the lock.
func (l *storeLock) unlock() error {
	_ = l.f.Truncate(0)
	return l.f.Close() // closing the descriptor releases the lock
}
