package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// publishPacked publishes bodies through a packing publisher, each with
// its own headers (run, line, X-Item), and returns the stream's messages.
func publishPacked(t *testing.T, js jetstream.JetStream, pack int, bodies ...string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := pipeline.NewPublisher(js, 0).Packing(pack)
	for i, b := range bodies {
		hdr := nats.Header{}
		hdr.Set(proto.HeaderRunID, "run-7")
		hdr.Set(proto.HeaderLine, strconv.Itoa(i))
		hdr.Set("X-Item", b)
		if err := p.Publish(ctx, testSubject, "item-"+b, hdr, []byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, proto.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// A packing publisher puts several items in one message; the worker hands
// each item to the handler as a message of its own, with its own headers
// and body, and settles each on its own: a dead letter holds the item
// alone, and an item asked to be retried brings its pack back, where the
// worker hands over only that item (the others of the pack were settled
// for good the first time), while other packs are done once.
func TestPackedItemsAreHandledOneByOne(t *testing.T) {
	js := setup(t)
	bodies := []string{"a", "b", "bad", "later", "c", "d", "e", "f", "g", "h"}
	if n := publishPacked(t, js, 4, bodies...); n != 3 {
		t.Fatalf("%d items went in %d messages, want 3 packs of at most 4", len(bodies), n)
	}
	cfg := baseConfig()
	cfg.PackItems = 4
	var mu sync.Mutex
	seen := map[string]int{}
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
		mu.Lock()
		defer mu.Unlock()
		errs := make([]error, len(b))
		for i, m := range b {
			body := string(m.Data)
			seen[body]++
			if m.Header.Get("X-Item") != body || m.Header.Get(proto.HeaderRunID) != "run-7" {
				errs[i] = pipeline.Permanent("mixed_up", fmt.Errorf("item %q came with headers %v", body, m.Header))
				continue
			}
			switch {
			case body == "bad":
				errs[i] = pipeline.Permanent("Invalid Phone", errors.New("phone +1 555 is not a number"))
			case body == "later" && seen[body] == 1:
				errs[i] = pipeline.RetryAfter(100*time.Millisecond, errors.New("throttled"))
			}
		}
		return errs
	})
	start(t, w)
	eventually(t, 10*time.Second, "everything settled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return seen["later"] == 2 && drained(t, js, cfg)
	})
	mu.Lock()
	defer mu.Unlock()
	// "later" shares its pack with a, b and bad: the pack comes back with
	// them, and they are not handled again.
	for body, want := range map[string]int{"a": 1, "b": 1, "bad": 1, "later": 2, "c": 1, "d": 1, "e": 1, "f": 1, "g": 1, "h": 1} {
		if seen[body] != want {
			t.Errorf("item %q handled %d times, want %d (all: %v)", body, seen[body], want, seen)
		}
	}
	dls := deadLetters(t, js)
	if len(dls) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dls))
	}
	if dl := dls[0]; string(dl.Data) != "bad" || dl.Headers["X-Item"][0] != "bad" || dl.Headers[proto.HeaderLine][0] != "2" || dl.RunID != "run-7" {
		t.Fatalf("dead letter of an item = %+v, want the item alone with its headers", dl)
	}
}

// An item the worker compacted (Config.Prepare) is read again from its
// pack when the handler needs its body.
func TestPackedItemsLoadAfterCompaction(t *testing.T) {
	js := setup(t)
	publishPacked(t, js, 3, "x", "y", "z", "w")
	cfg := baseConfig()
	cfg.PackItems = 3
	cfg.Prepare = func(m *pipeline.Msg) int {
		m.Prepared = string(m.Data)
		return len(m.Data)
	}
	var mu sync.Mutex
	loaded := map[string]string{}
	w := newWorker(t, js, cfg, func(ctx context.Context, b []*pipeline.Msg) []error {
		errs := make([]error, len(b))
		for i, m := range b {
			if m.Data != nil {
				errs[i] = errors.New("not compacted")
				continue
			}
			if err := m.Load(ctx); err != nil {
				errs[i] = err
				continue
			}
			mu.Lock()
			loaded[m.Prepared.(string)] = string(m.Data) + "/" + m.Header.Get("X-Item")
			mu.Unlock()
		}
		return errs
	})
	start(t, w)
	eventually(t, 10*time.Second, "everything settled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(loaded) == 4 && drained(t, js, cfg)
	})
	mu.Lock()
	defer mu.Unlock()
	for _, b := range []string{"x", "y", "z", "w"} {
		if loaded[b] != b+"/"+b {
			t.Errorf("item %q loaded as %q, want its own body and headers", b, loaded[b])
		}
	}
}

// Packs are cut by count and at Flush, and named by their items: the same
// items published again in the same order (an export read again after a
// restart) make the same packs, which the stream's duplicate window drops.
func TestPacksOfTheSameItemsAreDuplicates(t *testing.T) {
	js := setup(t)
	bodies := []string{"1", "2", "3", "4", "5"}
	if n := publishPacked(t, js, 2, bodies...); n != 3 {
		t.Fatalf("%d messages, want 3 packs", n)
	}
	if n := publishPacked(t, js, 2, bodies...); n != 3 {
		t.Fatalf("published again, the stream holds %d messages, want the same 3", n)
	}
	if n := publishPacked(t, js, 2, "1", "2", "3", "4", "6"); n != 4 {
		t.Fatalf("with one item changed, the stream holds %d messages, want one pack more", n)
	}
}

// A pack asked for again that comes back to another worker (a replica, or
// this one restarted) is handled whole there: only the worker that
// settled its items knows they are done.
func TestPackAskedForAgainIsHandledWholeElsewhere(t *testing.T) {
	js := setup(t)
	if n := publishPacked(t, js, 4, "a", "b", "later", "c"); n != 1 {
		t.Fatalf("4 items in %d messages, want one pack", n)
	}
	cfg := baseConfig()
	cfg.PackItems = 4
	var mu sync.Mutex
	seen := map[string][]string{} // worker -> items handled
	handler := func(name string) pipeline.HandlerFunc {
		return func(_ context.Context, b []*pipeline.Msg) []error {
			mu.Lock()
			defer mu.Unlock()
			errs := make([]error, len(b))
			for i, m := range b {
				seen[name] = append(seen[name], string(m.Data))
				if string(m.Data) == "later" && name == "first" {
					errs[i] = pipeline.RetryAfter(time.Second, errors.New("throttled"))
				}
			}
			return errs
		}
	}
	stopFirst := start(t, newWorker(t, js, cfg, handler("first")))
	eventually(t, 10*time.Second, "the first worker handled the pack", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen["first"]) == 4
	})
	if err := stopFirst(); err != nil {
		t.Fatal(err)
	}
	start(t, newWorker(t, js, cfg, handler("second")))
	eventually(t, 10*time.Second, "everything settled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen["second"]) == 4 && drained(t, js, cfg)
	})
	mu.Lock()
	defer mu.Unlock()
	if got := fmt.Sprint(seen["second"]); got != "[a b later c]" {
		t.Errorf("the second worker handled %s, want the whole pack [a b later c]", got)
	}
}

// Items of a pack held in a batch that is not full when the worker stops
// are given back at once: another worker has them before their ack wait.
func TestHeldPackItemsAreGivenBackAtAStop(t *testing.T) {
	js := setup(t)
	publishPacked(t, js, 4, "p", "q", "r")
	cfg := baseConfig()
	cfg.PackItems = 4
	cfg.AckWait = time.Minute
	held := baseConfig()
	held.PackItems, held.AckWait = 4, time.Minute
	held.BatchSize, held.BatchWait, held.BatchMaxWait = 100, time.Hour, time.Hour
	var prepared sync.WaitGroup
	prepared.Add(3)
	held.Prepare = func(m *pipeline.Msg) int {
		m.Prepared = true
		prepared.Done()
		return len(m.Data)
	}
	first := newWorker(t, js, held, func(_ context.Context, b []*pipeline.Msg) []error {
		return []error{errors.New("the batch should not have been cut")}
	})
	stop := start(t, first)
	prepared.Wait() // all three held, in a batch that waits an hour
	if err := stop(); err != nil {
		t.Fatalf("stopping with items held: %v", err)
	}
	var mu sync.Mutex
	var got []string
	second := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range b {
			got = append(got, string(m.Data))
		}
		return make([]error, len(b))
	})
	start(t, second)
	eventually(t, 20*time.Second, "the held items handled by another worker", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 3
	})
}
