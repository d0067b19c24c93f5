package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Secret returns the install's secret named name: 32 random bytes in hex,
// made by whichever process asks first (a compare-and-set, so every
// process of the install gets the same one) and kept in the state bucket.
// It is for what two processes of one install must share and outsiders
// must not guess, such as the token in the URL Brevo calls when an import
// finishes; whoever can read the state bucket can read it.
func (s *Store) Secret(ctx context.Context, name string) (string, error) {
	key := "secret." + name
	for {
		e, err := s.kv.Get(ctx, key)
		if err == nil {
			return string(e.Value()), nil
		}
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return "", fmt.Errorf("reading secret %s: %w", name, err)
		}
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("making secret %s: %w", name, err)
		}
		v := hex.EncodeToString(b[:])
		if _, err := s.kv.Create(ctx, key, []byte(v)); err == nil {
			return v, nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) {
			return "", fmt.Errorf("storing secret %s: %w", name, err)
		}
		// Another process made it first: read theirs.
	}
}
