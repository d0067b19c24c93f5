package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// EnvMasterKey names the environment variable holding the master key.
const EnvMasterKey = "TAJO_MASTER_KEY"

// keySize is AES-256's key length.
const keySize = 32

// masterKey is the key and where it came from, for error messages.
type masterKey struct {
	key    []byte
	source string // "TAJO_MASTER_KEY" or the key file's path
}

// envKey parses TAJO_MASTER_KEY; ok is false when it is unset.
func envKey() (k masterKey, ok bool, err error) {
	// Empty counts as unset: compose files and CI templates pass empty
	// values through.
	raw := os.Getenv(EnvMasterKey)
	if strings.TrimSpace(raw) == "" {
		return masterKey{}, false, nil
	}
	key, err := parseKey(raw)
	if err != nil {
		return masterKey{}, true, fmt.Errorf("%s: %w", EnvMasterKey, err)
	}
	return masterKey{key: key, source: EnvMasterKey}, true, nil
}

// parseKey reads 32 bytes written as hex or base64 (standard or URL
// alphabet, padded or not). The value itself never appears in an error.
func parseKey(raw string) ([]byte, error) {
	s := strings.TrimSpace(raw)
	if len(s) == 2*keySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != keySize {
				return nil, fmt.Errorf("decodes to %d bytes, want %d; generate a key with `openssl rand -base64 32`", len(k), keySize)
			}
			return k, nil
		}
	}
	return nil, errors.New("is neither 64 hex digits nor base64 of 32 bytes; generate a key with `openssl rand -base64 32`")
}

// fileKey reads the key file, creating it with a random key when create is
// set and it does not exist. ok is false when it does not exist and was not
// created.
func fileKey(path string, create bool) (k masterKey, ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if !create {
			return masterKey{}, false, nil
		}
		return newKeyFile(path)
	}
	if err != nil {
		return masterKey{}, false, fmt.Errorf("reading the master key file: %w", err)
	}
	if err := checkPrivate(path); err != nil {
		return masterKey{}, false, err
	}
	key, err := parseKey(string(data))
	if err != nil {
		return masterKey{}, false, fmt.Errorf("master key file %s %w; restore the original file or set %s", path, err, EnvMasterKey)
	}
	return masterKey{key: key, source: path}, true, nil
}

// newKeyFile writes a fresh random key, base64 so that it can be copied
// into TAJO_MASTER_KEY on another machine. O_EXCL makes a concurrent
// creator lose cleanly: it then reads the winner's key.
func newKeyFile(path string) (masterKey, bool, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return masterKey{}, false, fmt.Errorf("generating a master key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fileKey(path, false)
	}
	if err != nil {
		return masterKey{}, false, fmt.Errorf("creating the master key file: %w", err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		_ = os.Remove(path)
		return masterKey{}, false, fmt.Errorf("writing the master key file %s: %w", path, err)
	}
	return masterKey{key: key, source: path}, true, nil
}

// checkPrivate refuses a key file others can read: whoever reads it can
// decrypt every stored key.
func checkPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("checking the master key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("master key file %s is readable by other users (mode %04o): run `chmod 600 %s`",
			path, fi.Mode().Perm(), path)
	}
	return nil
}
