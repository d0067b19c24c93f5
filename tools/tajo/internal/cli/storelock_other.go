//go:build !unix

package cli

import (
	"errors"
	"os"
)

var errLocked = errors.New("locked by another process")

// lockFile does not lock on platforms without flock: there, two tajo
// processes must not open one store at once (use NATS_URL for the second).
func lockFile(*os.File) error { return nil }
