package state_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/state"
)

func leaseStore(t *testing.T) *state.Store {
	t.Helper()
	ctx := context.Background()
	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	nc, err := natsx.Connect(ctx, ns.ClientURL(), "lease")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Holders never overlap: each records that it is inside, and the count of
// those inside at once never exceeds one.
func TestLeaseIsExclusive(t *testing.T) {
	st := leaseStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var inside, maxInside, turns atomic.Int32
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				l, err := st.AcquireLease(ctx, "import", fmt.Sprintf("replica-%d", w), time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				for m := maxInside.Load(); n > m && !maxInside.CompareAndSwap(m, n); m = maxInside.Load() {
				}
				time.Sleep(5 * time.Millisecond)
				inside.Add(-1)
				turns.Add(1)
				if err := l.Release(ctx); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if maxInside.Load() != 1 || turns.Load() != 20 {
		t.Fatalf("max holders at once %d (want 1), turns %d (want 20)", maxInside.Load(), turns.Load())
	}
}

// A holder that died (never released, never refreshed) loses the lease once
// it is older than the ttl; a refreshed one keeps it.
func TestLeaseExpiresWithoutRefresh(t *testing.T) {
	st := leaseStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dead, err := st.AcquireLease(ctx, "import", "dead", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	l, err := st.AcquireLease(ctx, "import", "next", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Fatalf("took over a live lease after %s", waited)
	}
	if err := dead.Refresh(ctx); err == nil {
		t.Fatal("the dead holder refreshed a lease taken over by another")
	}
	// The new holder refreshes: a waiter with the same ttl must not take over.
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				if err := l.Refresh(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	wctx, wcancel := context.WithTimeout(ctx, time.Second)
	defer wcancel()
	if _, err := st.AcquireLease(wctx, "import", "thief", 300*time.Millisecond); err == nil {
		t.Fatal("took over a lease that was being refreshed")
	}
	close(stop)
}

// A refresh that was stored although its answer was lost (the next refresh
// finds a newer revision of its own) keeps the lease; a lease another
// acquisition took, under the same holder name, is lost all the same.
func TestLeaseRefreshSurvivesALostAnswer(t *testing.T) {
	st := leaseStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv := st.KeyValue()
	l, err := st.AcquireLease(ctx, "schedule", "extractor", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// The lost answer: the same value stored again behind the holder's back.
	e, err := kv.Get(ctx, "lease.schedule")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Update(ctx, "lease.schedule", e.Value(), e.Revision()); err != nil {
		t.Fatal(err)
	}
	if err := l.Refresh(ctx); err != nil {
		t.Fatalf("refresh after its own refresh landed unseen: %v", err)
	}
	if err := l.Refresh(ctx); err != nil {
		t.Fatalf("the next refresh: %v", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatalf("release: %v", err)
	}
	// Another acquisition under the same name is not this one.
	old, err := st.AcquireLease(ctx, "schedule", "extractor", 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	next, err := st.AcquireLease(ctx, "schedule", "extractor", 200*time.Millisecond) // waits for old to expire
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Refresh(ctx); err == nil {
		t.Fatal("an expired acquisition refreshed the lease another one of the same name holds")
	}
	if err := next.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
}
