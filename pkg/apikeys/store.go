package apikeys

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// FileName is the key file under the state directory.
const FileName = "apikeys.json"

// prefix starts every key, so a key found in a log or a repository is
// recognisable as a Tajo key.
const prefix = "tajo_"

// Errors of Verify: ErrUnknown for a key this store never issued (or none),
// ErrRevoked for one revoked. Callers answer 401 and 403.
var (
	ErrUnknown = errors.New("unknown API key")
	ErrRevoked = errors.New("API key revoked")
)

// Key is one stored key: never the key itself.
type Key struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Hash      string    `json:"sha256"` // hex SHA-256 of the whole key
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Revoked reports whether the key was revoked.
func (k Key) Revoked() bool { return !k.RevokedAt.IsZero() }

// Store is the key file of one state directory.
type Store struct {
	path string

	mu      sync.Mutex
	keys    []Key
	modTime time.Time
	size    int64
}

// Open returns the store of the state directory home; the file need not
// exist yet.
func Open(home string) (*Store, error) {
	if home == "" {
		return nil, errors.New("opening the API key store: no state directory (set TAJO_HOME)")
	}
	return &Store{path: filepath.Join(home, FileName)}, nil
}

// Path is the key file's location.
func (s *Store) Path() string { return s.path }

// Create makes a key named name, stores its hash and returns the key: the
// only time it is ever shown.
func (s *Store) Create(name string) (string, Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return "", Key{}, err
	}
	id := make([]byte, 6)
	secret := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return "", Key{}, fmt.Errorf("creating an API key: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return "", Key{}, fmt.Errorf("creating an API key: %w", err)
	}
	k := Key{ID: hex.EncodeToString(id), Name: name, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	key := prefix + k.ID + "_" + base64.RawURLEncoding.EncodeToString(secret)
	k.Hash = hash(key)
	keys := append(append([]Key(nil), s.keys...), k)
	if err := s.save(keys); err != nil {
		return "", Key{}, err
	}
	return key, k, nil
}

// List returns the stored keys, oldest first.
func (s *Store) List() ([]Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return nil, err
	}
	return append([]Key(nil), s.keys...), nil
}

// Revoke marks the key with id revoked; it is kept, so that using it is
// answered "revoked" rather than "unknown".
func (s *Store) Revoke(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return err
	}
	keys := append([]Key(nil), s.keys...)
	for i := range keys {
		if keys[i].ID == id {
			if !keys[i].Revoked() {
				keys[i].RevokedAt = time.Now().UTC().Truncate(time.Second)
			}
			return s.save(keys)
		}
	}
	return fmt.Errorf("revoking API key %q: %w", id, ErrUnknown)
}

// Verify says whether key opens the API: nil, ErrUnknown or ErrRevoked.
func (s *Store) Verify(key string) (Key, error) {
	id, ok := keyID(key)
	if !ok {
		return Key{}, ErrUnknown
	}
	s.mu.Lock()
	err := s.reload()
	keys := s.keys
	s.mu.Unlock()
	if err != nil {
		return Key{}, err
	}
	h := []byte(hash(key))
	for _, k := range keys {
		if k.ID != id {
			continue
		}
		if subtle.ConstantTimeCompare(h, []byte(k.Hash)) != 1 {
			return Key{}, ErrUnknown
		}
		if k.Revoked() {
			return k, ErrRevoked
		}
		return k, nil
	}
	return Key{}, ErrUnknown
}

// keyID is the id part of a well-formed key.
func keyID(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return "", false
	}
	id, secret, ok := strings.Cut(rest, "_")
	return id, ok && len(id) == 12 && secret != ""
}

func hash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// reload reads the file again when it changed; call with mu held.
func (s *Store) reload() error {
	fi, err := os.Stat(s.path)
	if errors.Is(err, os.ErrNotExist) {
		s.keys, s.modTime, s.size = nil, time.Time{}, 0
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the API key file: %w", err)
	}
	if fi.ModTime().Equal(s.modTime) && fi.Size() == s.size && s.keys != nil {
		return nil
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("reading the API key file: %w", err)
	}
	var keys []Key
	if err := json.Unmarshal(data, &keys); err != nil {
		return fmt.Errorf("reading the API key file %s: %w", s.path, err)
	}
	if keys == nil {
		keys = []Key{}
	}
	s.keys, s.modTime, s.size = keys, fi.ModTime(), fi.Size()
	return nil
}

// save replaces the file atomically; call with mu held.
func (s *Store) save(keys []Key) error {
	data, err := json.MarshalIndent(keys, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the API keys: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("writing the API key file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".apikeys-*")
	if err != nil {
		return fmt.Errorf("writing the API key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the API key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the API key file: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("writing the API key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("writing the API key file: %w", err)
	}
	s.keys = keys
	s.modTime, s.size = time.Time{}, 0 // read back on next use: the mtime may be coarse
	return nil
}
