package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// File names inside the state directory.
const (
	FileName    = "credentials.enc"
	KeyFileName = "master.key"
)

// formatVersion is the first byte of the file; a reader refuses versions it
// does not know rather than guess at their layout.
const formatVersion byte = 1

// ErrNotFound is wrapped by Delete when nothing is stored for the connector.
var ErrNotFound = errors.New("no stored credentials")

// Store is the encrypted credential file of one state directory.
type Store struct {
	dir     string
	path    string
	keyPath string

	mu  sync.Mutex
	key *masterKey // resolved on first need
}

// Open returns the store of the state directory home. It checks
// TAJO_MASTER_KEY when set, but reads no file: a store that was never
// written needs no master key, so commands that only look for credentials
// do not create a key file.
func Open(home string) (*Store, error) {
	if home == "" {
		return nil, errors.New("opening the credential store: no state directory (set TAJO_HOME)")
	}
	if _, _, err := envKey(); err != nil {
		return nil, err
	}
	return &Store{
		dir:     home,
		path:    filepath.Join(home, FileName),
		keyPath: filepath.Join(home, KeyFileName),
	}, nil
}

// Path is the encrypted file's location.
func (s *Store) Path() string { return s.path }

// Get returns the credentials stored for connector; ok is false when there
// are none (or no store at all).
func (s *Store) Get(connector string) (c Credentials, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := s.load()
	if err != nil {
		return Credentials{}, false, err
	}
	c, ok = all[connector]
	return c, ok, nil
}

// Put stores c for connector, replacing what was there.
func (s *Store) Put(connector string, c Credentials) error {
	if connector == "" {
		return errors.New("storing credentials: empty connector name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := s.load()
	if err != nil {
		return err
	}
	all[connector] = c
	return s.save(all)
}

// Delete removes connector's credentials; the file goes when it would be
// empty. It wraps ErrNotFound when there was nothing to remove.
func (s *Store) Delete(connector string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := s.load()
	if err != nil {
		return err
	}
	if _, ok := all[connector]; !ok {
		return fmt.Errorf("removing %s credentials from %s: %w", connector, s.path, ErrNotFound)
	}
	delete(all, connector)
	if len(all) == 0 {
		if err := os.Remove(s.path); err != nil {
			return fmt.Errorf("removing %s: %w", s.path, err)
		}
		return nil
	}
	return s.save(all)
}

// load decrypts the file; a missing file is an empty store.
func (s *Store) load() (map[string]Credentials, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]Credentials{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the credential store: %w", err)
	}
	key, err := s.masterKey(false)
	if err != nil {
		return nil, err
	}
	plain, err := open(key, data)
	if err != nil {
		return nil, fmt.Errorf("decrypting %s with the master key from %s: %w", s.path, key.source, err)
	}
	all := map[string]Credentials{}
	if err := json.Unmarshal(plain, &all); err != nil {
		return nil, fmt.Errorf("decoding the credential store %s: %w", s.path, err)
	}
	return all, nil
}

// save encrypts all under a fresh nonce and replaces the file atomically.
func (s *Store) save(all map[string]Credentials) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("creating the state directory: %w", err)
	}
	key, err := s.masterKey(true)
	if err != nil {
		return err
	}
	plain, err := json.Marshal(all)
	if err != nil {
		return fmt.Errorf("encoding credentials: %w", err)
	}
	sealed, err := seal(key.key, plain)
	if err != nil {
		return err
	}
	return writeAtomic(s.path, sealed)
}

// masterKey resolves the key once: TAJO_MASTER_KEY wins over the key file,
// which is created only when about to write.
func (s *Store) masterKey(create bool) (masterKey, error) {
	if s.key != nil {
		return *s.key, nil
	}
	k, ok, err := envKey()
	if err != nil {
		return masterKey{}, err
	}
	if !ok {
		if k, ok, err = fileKey(s.keyPath, create); err != nil {
			return masterKey{}, err
		}
		if !ok {
			return masterKey{}, fmt.Errorf("%s exists but there is no master key: set %s to the key it was written with, "+
				"or restore %s (else remove the store and run `tajo connectors install braze` again)", s.path, EnvMasterKey, s.keyPath)
		}
	}
	s.key = &k
	return k, nil
}

// seal returns version | nonce | ciphertext+tag, the version authenticated
// as additional data.
func seal(key, plain []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = formatVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("generating a nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plain, out[:1]), nil
}

// errUndecryptable says the two things that cause it and what to do.
var errUndecryptable = errors.New("wrong master key or the file was modified: " +
	"set " + EnvMasterKey + " (or restore " + KeyFileName + ") to the key the store was written with; " +
	"if that key is lost, remove " + FileName + " and run `tajo connectors install braze` again")

func open(key masterKey, data []byte) ([]byte, error) {
	aead, err := newAEAD(key.key)
	if err != nil {
		return nil, err
	}
	if len(data) < 1+aead.NonceSize()+aead.Overhead() {
		return nil, errUndecryptable
	}
	if data[0] != formatVersion {
		return nil, fmt.Errorf("format version %d is not one this tajo reads (%d): upgrade tajo", data[0], formatVersion)
	}
	nonce, sealed := data[1:1+aead.NonceSize()], data[1+aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, sealed, data[:1])
	if err != nil {
		return nil, errUndecryptable
	}
	return plain, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("preparing AES-256: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("preparing GCM: %w", err)
	}
	return aead, nil
}

// writeAtomic writes data to a temporary file (0600) beside path, syncs it
// and renames it over path.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing the credential store: %w", err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	err = errors.Join(werr, tmp.Chmod(0o600), tmp.Sync(), tmp.Close())
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		_ = os.Remove(name)
		return fmt.Errorf("writing the credential store %s: %w", path, err)
	}
	return nil
}
