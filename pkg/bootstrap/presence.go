package bootstrap

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// PresenceBucket holds one key per live replica that shares a vendor
// budget; an entry not refreshed within PresenceTTL expires.
const PresenceBucket = "tajo_presence"

// PresenceTTL and presenceEvery: a replica that died stops counting after
// at most PresenceTTL; the live ones refresh well within it.
const (
	PresenceTTL   = 15 * time.Second
	presenceEvery = PresenceTTL / 3
)

var unsafeKey = regexp.MustCompile(`[^-_=a-zA-Z0-9]`)

// Presence announces this process as a member of group (for example
// "brevo": the replicas that share Brevo's budget) under a key of its own
// with a TTL, and tells onCount how many live members the group has,
// whenever that changes and at least once, until ctx is done. The
// returned stop deletes the key, so that the others count one less at
// once.
func Presence(ctx context.Context, js jetstream.JetStream, replicas int, group, instance string, log *slog.Logger, onCount func(int)) (stop func(), err error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: PresenceBucket, Description: "tajo replicas sharing a vendor budget", TTL: PresenceTTL,
		History: 1, Storage: jetstream.FileStorage, Replicas: max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("opening the presence bucket %s: %w", PresenceBucket, err)
	}
	var id [4]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	key := group + "." + unsafeKey.ReplaceAllString(instance, "_") + "-" + hex.EncodeToString(id[:])
	beat := func(ctx context.Context) (int, error) {
		if _, err := kv.Put(ctx, key, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
			return 0, fmt.Errorf("announcing %s: %w", key, err)
		}
		lister, err := kv.ListKeysFiltered(ctx, group+".>")
		if err != nil {
			return 0, fmt.Errorf("counting the members of %s: %w", group, err)
		}
		n := 0
		for k := range lister.Keys() {
			if strings.HasPrefix(k, group+".") {
				n++
			}
		}
		return max(n, 1), nil
	}
	n, err := beat(ctx)
	if err != nil {
		return nil, err
	}
	onCount(n)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(presenceEvery)
		defer t.Stop()
		last := n
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				n, err := beat(ctx)
				switch {
				case err != nil:
					log.Debug("presence", "err", err)
				case n != last:
					last = n
					onCount(n)
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
		dctx, dcancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer dcancel()
		_ = kv.Delete(dctx, key)
	}, nil
}
