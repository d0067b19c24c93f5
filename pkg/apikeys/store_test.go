package apikeys_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tajo-sync/tajo/pkg/apikeys"
)

func TestCreateVerifyRevoke(t *testing.T) {
	home := t.TempDir()
	s, err := apikeys.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	key, k, err := s.Create("ci")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), key) {
		t.Fatal("the key file holds the key itself")
	}
	// A second store (another process) sees the key.
	other, _ := apikeys.Open(home)
	if got, err := other.Verify(key); err != nil || got.ID != k.ID {
		t.Fatalf("Verify(new key) = %v, %v", got, err)
	}
	for name, bad := range map[string]string{
		"empty": "", "no prefix": "x" + key, "wrong secret": key[:len(key)-2] + "zz", "bare prefix": "tajo_",
	} {
		if _, err := other.Verify(bad); !errors.Is(err, apikeys.ErrUnknown) {
			t.Errorf("%s: Verify = %v, want ErrUnknown", name, err)
		}
	}
	if err := s.Revoke(k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Verify(key); !errors.Is(err, apikeys.ErrRevoked) {
		t.Fatalf("Verify(revoked) = %v, want ErrRevoked", err)
	}
	keys, err := other.List()
	if err != nil || len(keys) != 1 || !keys[0].Revoked() {
		t.Fatalf("List = %+v, %v", keys, err)
	}
	if err := s.Revoke("nope"); !errors.Is(err, apikeys.ErrUnknown) {
		t.Fatalf("Revoke(unknown) = %v", err)
	}
}
