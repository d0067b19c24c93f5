//go:build unix

package natsx

import (
	"errors"
	"testing"
)

func TestOneServerPerStore(t *testing.T) {
	dir := t.TempDir()
	first, err := StartEmbedded(EmbeddedConfig{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if second, err := StartEmbedded(EmbeddedConfig{StoreDir: dir}); !errors.Is(err, ErrStoreInUse) {
		if second != nil {
			second.Shutdown()
		}
		t.Fatalf("second server on one store: %v, want ErrStoreInUse", err)
	}
	first.Shutdown()
	again, err := StartEmbedded(EmbeddedConfig{StoreDir: dir})
	if err != nil {
		t.Fatalf("after the first stopped, the store must be free: %v", err)
	}
	again.Shutdown()
}
