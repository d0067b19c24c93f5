package kvmap_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/pkg/kvmap"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
)

// openSmall opens bucket with 16 base shards sealed past 4 entries: a few
// thousand keys build trees several levels deep.
func openSmall(t *testing.T, js jetstream.JetStream, bucket string) *kvmap.Map {
	t.Helper()
	m, err := kvmap.Open(context.Background(), js, bucket)
	if err != nil {
		t.Fatal(err)
	}
	kvmap.SetShape(m, 1, 4)
	return m
}

func putBatches(t *testing.T, m *kvmap.Map, from, to, batch int, val string) {
	t.Helper()
	part := map[string]string{}
	for i := from; i < to; i++ {
		part[fmt.Sprintf("k%d", i)] = fmt.Sprintf("%s%d", val, i)
		if len(part) == batch || i == to-1 {
			if err := m.PutMany(context.Background(), part); err != nil {
				t.Fatal(err)
			}
			part = map[string]string{}
		}
	}
}

func checkAll(t *testing.T, m *kvmap.Map, n int, val string) {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
	}
	got, err := m.GetMany(context.Background(), keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if want := fmt.Sprintf("%s%d", val, i); got[k] != want {
			t.Fatalf("%s = %q, want %q (%d of %d read)", k, got[k], want, len(got), n)
		}
	}
}

// A shard that outgrows splitAt is sealed and its entries move to its
// children: what a write costs stays bounded however many keys the map
// holds, and every key stays readable, by this Map and by one that knows
// nothing of the splits yet.
func TestShardsSplitAndWritesStayBounded(t *testing.T) {
	ctx := context.Background()
	_, _, js := natsxtest.Start(t)
	for _, b := range []string{"s", "u"} {
		if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: b}); err != nil {
			t.Fatal(err)
		}
	}
	split := openSmall(t, js, "s")
	whole := openSmall(t, js, "u")
	kvmap.SetShape(whole, 1, 1<<30) // never splits: 16 shards, as the map was
	const n, batch = 4000, 200
	putBatches(t, split, 0, n, batch, "v")
	putBatches(t, whole, 0, n, batch, "v")
	checkAll(t, split, n, "v")
	checkAll(t, whole, n, "v")

	// One more batch of new keys: entries rewritten per key written.
	perKey := func(m *kvmap.Map) float64 {
		before := kvmap.Written(m)
		putBatches(t, m, n, n+batch, batch, "v")
		return float64(kvmap.Written(m)-before) / batch
	}
	splitCost, wholeCost := perKey(split), perKey(whole)
	t.Logf("entries rewritten per key written at %d keys: %.1f split, %.1f in 16 whole shards", n, splitCost, wholeCost)
	if splitCost > 3*4 {
		t.Errorf("a write rewrote %.1f entries per key, want at most 12 with shards sealed past 4", splitCost)
	}
	if wholeCost < 4*splitCost {
		t.Errorf("the unsplit map rewrote %.1f entries per key, the split one %.1f: sealing saved little", wholeCost, splitCost)
	}

	// A sealed shard gives up its frozen entries once both its children are
	// stored: the store holds about one copy of each entry, not one a level.
	stored, err := kvmap.StoredEntries(ctx, split)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d entries stored for %d keys", stored, n+batch)
	if stored > (n+batch)*5/4 {
		t.Errorf("%d entries stored for %d keys: sealed shards keep copies of their children's", stored, n+batch)
	}

	// A fresh Map (another replica) finds every key by reading down.
	fresh := openSmall(t, js, "s")
	checkAll(t, fresh, n+batch, "v")
	// Overwrites and deletes through the fresh one, read back through both.
	putBatches(t, fresh, 0, n+batch, 500, "w")
	checkAll(t, split, n+batch, "w")
	if err := split.Delete(ctx, "k7"); err != nil {
		t.Fatal(err)
	}
	got, err := fresh.GetMany(ctx, []string{"k7", "k8"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["k7"]; ok || got["k8"] != "w8" {
		t.Fatalf("after deleting k7: %v", got)
	}

	// The bucket purged under a Map that cached its seals: it starts over.
	s, err := js.Stream(ctx, "KV_s")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	got, err = split.GetMany(ctx, []string{"k1", "k2"})
	if err != nil || len(got) != 0 {
		t.Fatalf("after a purge: %v, %v", got, err)
	}
	putBatches(t, split, 0, 1000, 250, "x")
	checkAll(t, split, 1000, "x")
	checkAll(t, openSmall(t, js, "s"), 1000, "x")
}

// Writers racing while shards split: no entry is lost, and claims made with
// Modify have one owner each.
func TestConcurrentWritersWhileShardsSplit(t *testing.T) {
	ctx := context.Background()
	_, _, js := natsxtest.Start(t)
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "c"}); err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 1500
	errs := make(chan error, 2*writers)
	for w := range writers {
		m := openSmall(t, js, "c") // each its own cache, as replicas
		go func() {
			part := map[string]string{}
			for i := range each {
				k := fmt.Sprintf("w%d-%d", w, i)
				part[k] = k
				if len(part) == 150 {
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
	claims := make([]map[string]string, 2)
	keys := make([]string, 2000)
	for i := range keys {
		keys[i] = fmt.Sprintf("email:%d@example.com", i)
	}
	for i, owner := range []string{"a", "b"} {
		m := openSmall(t, js, "c")
		go func() {
			out := map[string]string{}
			for from := 0; from < len(keys); from += 100 {
				got, err := m.Modify(ctx, keys[from:from+100], func(_, cur string, ok bool) (string, bool, bool) {
					if ok {
						return cur, false, false
					}
					return owner, true, false
				})
				if err != nil {
					errs <- err
					return
				}
				for k, v := range got {
					out[k] = v
				}
			}
			claims[i] = out
			errs <- nil
		}()
	}
	for range writers + 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	m := openSmall(t, js, "c")
	var all []string
	for w := range writers {
		for i := range each {
			all = append(all, fmt.Sprintf("w%d-%d", w, i))
		}
	}
	got, err := m.GetMany(ctx, append(all, keys...))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range all {
		if got[k] != k {
			t.Fatalf("%s = %q after concurrent writers (%d of %d kept)", k, got[k], len(got), len(all)+len(keys))
		}
	}
	for _, k := range keys {
		if got[k] == "" || claims[0][k] != got[k] || claims[1][k] != got[k] {
			t.Fatalf("%s: stored %q, writer a saw %q, writer b saw %q", k, got[k], claims[0][k], claims[1][k])
		}
	}
}
