package kvmap_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/pkg/kvmap"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
)

func TestGetPutMany(t *testing.T) {
	ctx := context.Background()
	m := openMap(t)
	in := map[string]string{}
	keys := []string{"missing", "email:Ann@Example.com", "free form/with.dots and spaces"}
	for i := range 2600 { // more than one batched read
		k := fmt.Sprintf("user-%d", i)
		in[k] = fmt.Sprintf("fp-%d", i)
		keys = append(keys, k)
	}
	in["email:Ann@Example.com"] = "cust_1"
	in["free form/with.dots and spaces"] = "x"
	if err := m.PutMany(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, err := m.GetMany(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("got %d entries, want %d", len(got), len(in))
	}
	for k, v := range in {
		if got[k] != v {
			t.Errorf("%q = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["missing"]; ok {
		t.Error("a missing key was found")
	}
	if err := m.Delete(ctx, "user-1"); err != nil {
		t.Fatal(err)
	}
	got, _ = m.GetMany(ctx, []string{"user-1", "user-2"})
	if _, ok := got["user-1"]; ok || got["user-2"] != "fp-2" {
		t.Errorf("after delete: %v", got)
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.GetMany(ctx2, keys); err == nil {
		t.Error("GetMany on a cancelled context succeeded")
	}
}

// Concurrent writers share shards; compare-and-set must keep every entry.
func TestConcurrentWritersKeepEveryEntry(t *testing.T) {
	ctx := context.Background()
	m := openMap(t)
	const writers, each = 4, 3000 // 12,000 keys over 65,536 shards: many shards are shared
	errs := make(chan error, writers)
	var all []string
	for w := range writers {
		batch := map[string]string{}
		for i := range each {
			k := fmt.Sprintf("w%d-%d", w, i)
			batch[k] = k
			all = append(all, k)
		}
		go func() {
			// Several small writes, interleaving with the other writers.
			part := map[string]string{}
			for k, v := range batch {
				part[k] = v
				if len(part) == 500 {
					if err := m.PutMany(ctx, part); err != nil {
						errs <- err
						return
					}
					part = map[string]string{}
				}
			}
			errs <- m.PutMany(ctx, part)
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got, err := m.GetMany(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(all) {
		t.Fatalf("%d of %d entries survived concurrent writers", len(got), len(all))
	}
}

// Two writers claiming the same keys at once: each key ends with one owner,
// and both writers are told the same owner.
func TestModifyClaimsRace(t *testing.T) {
	ctx := context.Background()
	m := openMap(t)
	keys := make([]string, 3000)
	for i := range keys {
		keys[i] = fmt.Sprintf("sms:+1555%07d", i)
	}
	claim := func(owner string) kvmap.ModifyFunc {
		return func(_, cur string, ok bool) (string, bool, bool) {
			if ok {
				return cur, false, false
			}
			return owner, true, false
		}
	}
	results := make([]map[string]string, 2)
	errs := make(chan error, 2)
	for i, owner := range []string{"a", "b"} {
		go func() {
			var err error
			results[i], err = m.Modify(ctx, keys, claim(owner))
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	stored, err := m.GetMany(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if results[0][k] == "" || results[0][k] != results[1][k] || stored[k] != results[0][k] {
			t.Fatalf("%s: writer a saw %q, writer b saw %q, stored %q", k, results[0][k], results[1][k], stored[k])
		}
	}
	// Release only what one owns.
	got, err := m.Modify(ctx, keys, func(_, cur string, ok bool) (string, bool, bool) {
		return "", false, ok && cur == "a"
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if v, ok := got[k]; ok != (stored[k] == "b") || (ok && v != "b") {
			t.Fatalf("%s after releasing a's claims: %q %v (was %q)", k, v, ok, stored[k])
		}
	}
}

// A write the stream never acknowledges (as when its leader is lost with
// the publish in flight) fails the call within the ack timeout instead of
// waiting forever: the caller retries on a fresh read.
func TestUnacknowledgedWriteFails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _, js := natsxtest.Start(t)
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "t"}); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, "KV_t")
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	cfg.NoAck = true
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	m, err := kvmap.Open(ctx, js, "t")
	if err != nil {
		t.Fatal(err)
	}
	kvmap.SetAckTimeout(m, 300*time.Millisecond)
	start := time.Now()
	err = m.PutMany(ctx, map[string]string{"a": "1", "b": "2"})
	if !errors.Is(err, jetstream.ErrAsyncPublishTimeout) || !strings.Contains(err.Error(), "of t") {
		t.Fatalf("PutMany = %v, want an ack timeout naming the bucket", err)
	}
	_, err = m.Modify(ctx, []string{"c"}, func(string, string, bool) (string, bool, bool) { return "3", true, false })
	if !errors.Is(err, jetstream.ErrAsyncPublishTimeout) {
		t.Fatalf("Modify = %v, want an ack timeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the two calls took %s with a 300ms ack timeout", d)
	}
}

// A read or write of many keys (a loader batch: 27,000) holds the shards of
// about ChunkKeys of them at once, not of all: what it holds must not grow
// with the batch, nor with the entries each shard has.
func TestManyKeysAreHandledInChunks(t *testing.T) {
	ctx := context.Background()
	m := openMap(t)
	const n = 3*kvmap.ChunkKeys + 500
	in := make(map[string]string, n)
	keys := make([]string, 0, n)
	for i := range n {
		k := fmt.Sprintf("user-%d", i)
		in[k], keys = fmt.Sprintf("fp-%d", i), append(keys, k)
	}
	if err := m.PutMany(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, err := m.GetMany(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	held, err := m.Modify(ctx, keys, func(k, cur string, ok bool) (string, bool, bool) { return cur + "+", true, false })
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if got[k] != in[k] || held[k] != in[k]+"+" {
			t.Fatalf("%s: read %q, modified to %q; want %q and %q", k, got[k], held[k], in[k], in[k]+"+")
		}
	}
	// A chunk ends at a base shard's end: a few keys more than ChunkKeys.
	if w := kvmap.Widest(m); w > kvmap.ChunkKeys+16 {
		t.Errorf("one read held the shards of %d keys at once; want at most about %d", w, kvmap.ChunkKeys)
	}
	if w := kvmap.Written(m); w > 2*n {
		t.Errorf("%d entries written for %d keys in two passes: shards written once per chunk", w, n)
	}
}

// openMap is a Map on a bucket "t" of a server of its own.
func openMap(t testing.TB) *kvmap.Map {
	t.Helper()
	ctx := context.Background()
	_, _, js := natsxtest.Start(t)
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "t"}); err != nil {
		t.Fatal(err)
	}
	m, err := kvmap.Open(ctx, js, "t")
	if err != nil {
		t.Fatal(err)
	}
	return m
}
