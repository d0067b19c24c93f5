package natsx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrStoreInUse is returned by StartEmbedded when another process runs a
// server on the same store directory. nats-server does not guard its file
// store itself, and two servers writing one store corrupt it.
var ErrStoreInUse = errors.New("the NATS store is in use by another process")

// storeLockName is the lock file kept in a store directory while a server
// runs on it. The lock is advisory and the kernel drops it when the process
// ends, so a crash leaves nothing to clean up.
const storeLockName = "tajo.lock"

// lockStore takes the store directory's lock, creating the directory.
func lockStore(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the NATS store %s: %w", dir, err)
	}
	path := filepath.Join(dir, storeLockName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock of the NATS store %s: %w", dir, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s (%v)", ErrStoreInUse, dir, err)
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}
