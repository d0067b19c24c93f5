package state_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

func newStore(t *testing.T) (*state.Store, jetstream.JetStream) {
	t.Helper()
	_, _, js := natsxtest.Start(t)
	s, err := state.NewStore(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	return s, js
}

func TestRuns(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if _, err := s.GetRun(ctx, "nope"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("GetRun of a missing run = %v, want ErrNotFound", err)
	}
	if _, err := s.LastRun(ctx, "users"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("LastRun with none = %v, want ErrNotFound", err)
	}
	r := &proto.SyncRun{ID: state.NewID(), Resource: "users", Type: "full", Status: proto.RunRunning, StartedAt: 1}
	if err := s.PutRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLastRun(ctx, "users", r.ID); err != nil {
		t.Fatal(err)
	}
	r.Status, r.Exported = proto.RunExported, 1000
	if err := s.PutRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.LastRun(ctx, "users")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != r.ID || got.Status != proto.RunExported || got.Exported != 1000 || got.V != proto.SchemaVersion {
		t.Fatalf("LastRun = %+v", got)
	}
}

func TestCursors(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if v, err := s.GetCursor(ctx, "brevo.contacts"); err != nil || v != "" {
		t.Fatalf("unset cursor = %q, %v; want empty, nil", v, err)
	}
	if err := s.PutCursor(ctx, "brevo.contacts", "2026-11-28T13:00:00Z"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetCursor(ctx, "brevo.contacts"); err != nil || v != "2026-11-28T13:00:00Z" {
		t.Fatalf("cursor = %q, %v", v, err)
	}
}

func TestDrained(t *testing.T) {
	s, js := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := js.CreateOrUpdateConsumer(ctx, proto.StreamRaw, jetstream.ConsumerConfig{
		Durable: "d", FilterSubject: "raw.test.d", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	check := func(want bool, when string) {
		t.Helper()
		got, err := s.Drained(ctx, js, proto.StreamRaw, "d")
		if err != nil || got != want {
			t.Fatalf("%s: Drained = %v, %v; want %v", when, got, err, want)
		}
	}
	check(true, "empty")
	for i := range 2 {
		if _, err := js.Publish(ctx, "raw.test.d", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	check(false, "pending")
	batch, err := cons.FetchNoWait(2)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 2 {
		t.Fatalf("fetched %d", len(msgs))
	}
	check(false, "delivered, unacked")
	if err := msgs[0].NakWithDelay(time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := msgs[1].DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	check(false, "one waiting for a delayed redelivery")
	if _, err := s.Drained(ctx, js, proto.StreamRaw, "missing"); err == nil {
		t.Fatal("Drained of a missing consumer: want error")
	}
}

// A consumer's counts can say nothing is pending while the work-queue
// stream still holds its messages: nats-server sets a new consumer's
// pending count only once it leads, and an info read just after its
// creation can answer 0 (a sync's Wait read the loader's consumer as it
// was created, found it drained and declared the whole run incomplete).
// Drained is asked again and again as consumers are created on a stream
// holding their messages: it must never say yes. (Reading the consumer's
// counts alone, it said yes 1 to 12 times in 1,500 creations, in about
// half of the runs here; the next test shows the same deterministically.)
func TestDrainedIsNotFooledByANewConsumer(t *testing.T) {
	if testing.Short() {
		t.Skip("creates consumers for 4 s (-short)")
	}
	s, js := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Other subjects' messages first: the new consumer looks for its first
	// message past them, which widens the moment its counts are not set.
	for i := range 30000 {
		if _, err := js.PublishAsync(fmt.Sprintf("raw.test.o%d", i%50), []byte("another's")); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	if _, err := js.Publish(ctx, "raw.test.n", []byte("waiting")); err != nil {
		t.Fatal(err)
	}
	var fooled atomic.Int64
	// Consumers are made for 4 s (about 1,000 here), or until one fools it.
	for i, end := 0, time.Now().Add(4*time.Second); time.Now().Before(end) && fooled.Load() == 0; i++ {
		name := fmt.Sprintf("n%d", i)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for seen := 0; seen < 3; {
					select {
					case <-stop:
						return
					default:
					}
					ok, err := s.Drained(ctx, js, proto.StreamRaw, name)
					if err != nil {
						continue // not created yet
					}
					seen++
					if ok {
						fooled.Add(1)
					}
				}
			})
		}
		if _, err := js.CreateOrUpdateConsumer(ctx, proto.StreamRaw, jetstream.ConsumerConfig{
			Durable: name, FilterSubject: "raw.test.n", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(200*time.Millisecond, func() { close(stop) })
		wg.Wait()
		// A work queue takes one consumer per subject.
		if err := js.DeleteConsumer(ctx, proto.StreamRaw, name); err != nil {
			t.Fatal(err)
		}
	}
	if n := fooled.Load(); n > 0 {
		t.Fatalf("Drained said a new consumer was drained %d times with its message stored", n)
	}
}

// A consumer moved past a stored message (the server's consumer reset, an
// operator's move) counts nothing pending while the work-queue stream
// still holds the message, as a consumer does in the moments after its
// creation (above), but for good: Drained reads the stream's count under
// the consumer's filter and says no; once the message is gone, yes.
func TestDrainedReadsTheStreamNotOnlyTheConsumer(t *testing.T) {
	s, js := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ack, err := js.Publish(ctx, "raw.test.n", []byte("waiting"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "raw.test.other", []byte("another consumer's")); err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, proto.StreamRaw, jetstream.ConsumerConfig{
		Durable: "n", FilterSubject: "raw.test.n", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	reset := fmt.Sprintf(`{"seq": %d}`, ack.Sequence+2)
	if _, err := js.Conn().Request("$JS.API.CONSUMER.RESET."+proto.StreamRaw+".n", []byte(reset), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	in, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if in.NumPending != 0 || in.NumAckPending != 0 {
		t.Fatalf("the reset consumer counts %d pending, %d unacked: the test needs it to say 0", in.NumPending, in.NumAckPending)
	}
	if ok, err := s.Drained(ctx, js, proto.StreamRaw, "n"); err != nil || ok {
		t.Fatalf("Drained = %v, %v with a message stored under the consumer's filter; want false", ok, err)
	}
	// Another subject's message is not this consumer's.
	str, err := js.Stream(ctx, proto.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	if err := str.Purge(ctx, jetstream.WithPurgeSubject("raw.test.n")); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Drained(ctx, js, proto.StreamRaw, "n"); err != nil || !ok {
		t.Fatalf("Drained = %v, %v with only another subject's message stored; want true", ok, err)
	}
}

func TestNewIDIsSortableAndUnique(t *testing.T) {
	re := regexp.MustCompile(`^\d{8}T\d{6}Z-[0-9a-f]{6}$`)
	seen := map[string]bool{}
	for range 100 {
		id := state.NewID()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

// Every process of an install gets the same secret, made once, and two
// secrets differ.
func TestSecretIsSharedAndUnguessable(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := st.Secret(ctx, "brevo.notify")
			if err != nil {
				t.Error(err)
			}
			got[i] = s
		}()
	}
	wg.Wait()
	for _, s := range got {
		if s != got[0] || len(s) != 64 {
			t.Fatalf("secrets %v: want one 64-hex-digit secret for everyone", got)
		}
	}
	other, err := st.Secret(ctx, "other")
	if err != nil || other == got[0] {
		t.Fatalf("another secret: %q, %v", other, err)
	}
}
