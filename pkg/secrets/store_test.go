package secrets

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var sample = Credentials{
	BrazeAPIKey:      "braze-key-1f2e3d4c5b6a79881f2e3d4c5b6a7988",
	BrazeInstanceURL: "https://rest.iad-01.braze.com",
	BrevoAPIKey:      "xkeysib-0a1b2c3d4e5f60718293a4b5c6d7e8f9",
}

// openEmpty returns a store in a fresh state directory, with the master
// key from the key file unless the test sets TAJO_MASTER_KEY itself.
func openEmpty(t *testing.T) (*Store, string) {
	t.Helper()
	home := t.TempDir()
	s, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	return s, home
}

func TestRoundTrip(t *testing.T) {
	unsetMasterKey(t)
	s, home := openEmpty(t)
	if _, ok, err := s.Get("braze"); err != nil || ok {
		t.Fatalf("Get on an empty store: ok %v, err %v; want nothing and no error", ok, err)
	}
	if _, err := os.Stat(filepath.Join(home, KeyFileName)); !os.IsNotExist(err) {
		t.Fatalf("reading an empty store created the key file (stat err %v)", err)
	}
	if err := s.Put("braze", sample); err != nil {
		t.Fatal(err)
	}
	other := Credentials{BrazeAPIKey: "second"}
	if err := s.Put("other", other); err != nil {
		t.Fatal(err)
	}
	// A new Store reads what the first wrote: nothing is kept in memory only.
	s2, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := s2.Get("braze")
	if err != nil || !ok || got != sample {
		t.Fatalf("Get after Put: %#v ok %v err %v; want %#v", got, ok, err, sample)
	}
	if err := s2.Delete("braze"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s2.Get("braze"); ok {
		t.Error("braze still stored after Delete")
	}
	if got, _, _ := s2.Get("other"); got != other {
		t.Errorf("Delete of braze changed other: %#v", got)
	}
	if err := s2.Delete("braze"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
	if err := s2.Delete("other"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s2.Path()); !os.IsNotExist(err) {
		t.Errorf("the store file remains after its last entry was deleted (stat err %v)", err)
	}
}

func TestFilesArePrivate(t *testing.T) {
	unsetMasterKey(t)
	s, home := openEmpty(t)
	if err := s.Put("braze", sample); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{KeyFileName, FileName} {
		fi, err := os.Stat(filepath.Join(home, name))
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", name, perm)
		}
	}
	// A key file others can read is refused, with the fix.
	if err := os.Chmod(filepath.Join(home, KeyFileName), 0o644); err != nil {
		t.Fatal(err)
	}
	s2, _ := Open(home)
	_, _, err := s2.Get("braze")
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Get with a world-readable key file: %v; want an error saying chmod 600", err)
	}
}

// TestNoPlaintext greps the file for each secret, raw and in the encodings
// a careless format would use.
func TestNoPlaintext(t *testing.T) {
	unsetMasterKey(t)
	s, _ := openEmpty(t)
	if err := s.Put("braze", sample); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{sample.BrazeAPIKey, sample.BrevoAPIKey} {
		for _, form := range []string{secret, secret[:12], base64.StdEncoding.EncodeToString([]byte(secret)), hex.EncodeToString([]byte(secret))} {
			if bytes.Contains(data, []byte(form)) {
				t.Errorf("the store holds %q in clear", form)
			}
		}
	}
	if bytes.Contains(data, []byte("braze")) {
		t.Error("the store holds connector names in clear")
	}
	// A fresh nonce per write: the same content never encrypts the same.
	if err := s.Put("braze", sample); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(s.Path())
	if bytes.Equal(data, again) || bytes.Equal(data[1:13], again[1:13]) {
		t.Error("two writes of the same credentials produced the same nonce")
	}
}

func TestTamperingDetected(t *testing.T) {
	unsetMasterKey(t)
	s, home := openEmpty(t)
	if err := s.Put("braze", sample); err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 13, len(orig) / 2, len(orig) - 1} { // nonce, ciphertext start, middle, tag
		t.Run(fmt.Sprintf("byte%d", i), func(t *testing.T) {
			bad := bytes.Clone(orig)
			bad[i] ^= 0x01
			if err := os.WriteFile(s.Path(), bad, 0o600); err != nil {
				t.Fatal(err)
			}
			s2, _ := Open(home)
			c, ok, err := s2.Get("braze")
			if err == nil || !strings.Contains(err.Error(), "modified") {
				t.Fatalf("Get of a file with byte %d flipped: %v ok %v err %v; want a tampering error", i, c, ok, err)
			}
		})
	}
	t.Run("version", func(t *testing.T) {
		bad := bytes.Clone(orig)
		bad[0] = 9
		os.WriteFile(s.Path(), bad, 0o600)
		s2, _ := Open(home)
		if _, _, err := s2.Get("braze"); err == nil || !strings.Contains(err.Error(), "version 9") {
			t.Fatalf("unknown version: %v", err)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		os.WriteFile(s.Path(), orig[:10], 0o600)
		s2, _ := Open(home)
		if _, _, err := s2.Get("braze"); err == nil {
			t.Fatal("a truncated store opened")
		}
	})
}

func TestWrongMasterKey(t *testing.T) {
	home := t.TempDir()
	t.Setenv(EnvMasterKey, randomKey(t, hex.EncodeToString))
	s, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put("braze", sample); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, KeyFileName)); !os.IsNotExist(err) {
		t.Errorf("a key file was created although %s was set", EnvMasterKey)
	}
	t.Setenv(EnvMasterKey, randomKey(t, base64.StdEncoding.EncodeToString))
	s2, err := Open(home)
	if err != nil {
		t.Fatal(err)
	}
	c, ok, err := s2.Get("braze")
	if err == nil {
		t.Fatalf("Get with another master key succeeded: %v %v", c, ok)
	}
	msg := err.Error()
	for _, want := range []string{"wrong master key", EnvMasterKey, "tajo connectors install braze"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if c != (Credentials{}) || ok {
		t.Errorf("a failed Get returned credentials: %v %v", c, ok)
	}
	// Writing with the wrong key must not clobber the store either.
	if err := s2.Put("braze", Credentials{}); err == nil {
		t.Error("Put with the wrong master key succeeded")
	}

	// Without the env and without the key file, the error says where the
	// key should come from.
	os.Unsetenv(EnvMasterKey)
	s3, _ := Open(home)
	if _, _, err := s3.Get("braze"); err == nil || !strings.Contains(err.Error(), "no master key") {
		t.Errorf("Get with no key at all: %v", err)
	}
}

func TestMasterKeyFormats(t *testing.T) {
	key := make([]byte, keySize)
	rand.Read(key)
	for name, tc := range map[string]struct {
		value string
		ok    bool
	}{
		"hex":         {hex.EncodeToString(key), true},
		"base64":      {base64.StdEncoding.EncodeToString(key), true},
		"base64 raw":  {base64.RawStdEncoding.EncodeToString(key), true},
		"base64 url":  {base64.URLEncoding.EncodeToString(key), true},
		"newline":     {base64.StdEncoding.EncodeToString(key) + "\n", true},
		"short":       {base64.StdEncoding.EncodeToString(key[:16]), false},
		"passphrase":  {"correct horse battery staple", false},
		"empty":       {"", true}, // as unset: compose files pass empty values through
		"hex too big": {hex.EncodeToString(append(key, 1)), false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(EnvMasterKey, tc.value)
			_, err := Open(t.TempDir())
			if tc.ok != (err == nil) {
				t.Fatalf("Open with %s: %v", name, err)
			}
			if err != nil && (!strings.Contains(err.Error(), "openssl rand -base64 32") || (tc.value != "" && strings.Contains(err.Error(), tc.value))) {
				t.Errorf("error %q should say how to make a key and not echo the value", err)
			}
		})
	}
}

func TestCredentialsRedacted(t *testing.T) {
	for _, s := range []string{fmt.Sprint(sample), fmt.Sprintf("%+v", sample), fmt.Sprintf("%#v", sample)} {
		if strings.Contains(s, sample.BrazeAPIKey) || strings.Contains(s, sample.BrevoAPIKey) {
			t.Errorf("formatted credentials show a key: %s", s)
		}
	}
}

func randomKey(t *testing.T, enc func([]byte) string) string {
	t.Helper()
	k := make([]byte, keySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return enc(k)
}

// unsetMasterKey removes TAJO_MASTER_KEY for the test (restored after it).
func unsetMasterKey(t *testing.T) {
	t.Helper()
	t.Setenv(EnvMasterKey, "")
	os.Unsetenv(EnvMasterKey)
}
