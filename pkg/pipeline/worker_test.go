package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/restcall"
	"github.com/tajo-sync/tajo/proto"
)

func TestWorkerAcksOnNil(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	rec := newRecorder()
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
		rec.record(b)
		return nil
	})
	publishN(t, js, testSubject, 50, 0)
	start(t, w)
	eventually(t, 10*time.Second, "50 messages handled and acked", func() bool {
		return rec.total() == 50 && drained(t, js, cfg)
	})
	s, err := js.Stream(context.Background(), proto.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.CachedInfo().State.Msgs; n != 0 {
		t.Fatalf("work-queue stream still holds %d messages after acks", n)
	}
	if rec.tries["7"][0] != 1 {
		t.Fatalf("first delivery NumDelivered = %d, want 1", rec.tries["7"][0])
	}
}

func TestWorkerRetryAfterRedeliversAfterDelay(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	cfg.MaxDeliver = 2 // RetryAfter must never dead-letter, even past MaxDeliver
	const delay = 400 * time.Millisecond
	rec := newRecorder()
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
		rec.record(b)
		if b[0].NumDelivered < 3 {
			return pipeline.Errors(len(b), pipeline.RetryAfter(delay, errors.New("429")))
		}
		return nil
	})
	publishN(t, js, testSubject, 1, 0)
	start(t, w)
	eventually(t, 10*time.Second, "third delivery acked", func() bool { return rec.deliveries("0") == 3 && drained(t, js, cfg) })
	seen := rec.seen["0"]
	for i := 1; i < len(seen); i++ {
		if gap := seen[i].Sub(seen[i-1]); gap < delay-50*time.Millisecond || gap > delay+time.Second {
			t.Errorf("redelivery %d came %s after the previous one, want about %s", i, gap, delay)
		}
	}
	if dls := deadLetters(t, js); len(dls) != 0 {
		t.Fatalf("RetryAfter dead-lettered: %+v", dls[0])
	}
}

func TestWorkerGenericErrorBacksOff(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	cfg.Backoff = pipeline.Backoff{Backoff: restcall.Backoff{Initial: 200 * time.Millisecond, Max: time.Second, Multiplier: 2}, Jitter: 0.1}
	rec := newRecorder()
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
		rec.record(b)
		if b[0].NumDelivered < 3 {
			return pipeline.Errors(len(b), errors.New("connection reset"))
		}
		return nil
	})
	publishN(t, js, testSubject, 1, 0)
	start(t, w)
	eventually(t, 10*time.Second, "third delivery acked", func() bool { return rec.deliveries("0") == 3 && drained(t, js, cfg) })
	seen := rec.seen["0"]
	// 200ms after the first failure, 400ms after the second, +-10%.
	for i, want := range []time.Duration{200 * time.Millisecond, 400 * time.Millisecond} {
		gap := seen[i+1].Sub(seen[i])
		if gap < want*85/100 || gap > want+time.Second {
			t.Errorf("retry %d came %s after the failure, want about %s", i+1, gap, want)
		}
	}
}

// failingWorker is a worker whose handler records each batch in rec and
// gives each message the error fail returns for it.
func failingWorker(t *testing.T, js jetstream.JetStream, cfg pipeline.Config, rec *recorder, fail func(*pipeline.Msg) error) *pipeline.Worker {
	return newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
		rec.record(b)
		errs := make([]error, len(b))
		for i, m := range b {
			errs[i] = fail(m)
		}
		return errs
	})
}

func TestWorkerPermanentDeadLettersAndTerms(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	rec := newRecorder()
	w := failingWorker(t, js, cfg, rec, func(m *pipeline.Msg) error {
		if string(m.Data) == "bad" {
			return pipeline.Permanent("Invalid Phone", errors.New("phone +1 555 is not a number"))
		}
		return nil
	})
	ctx := context.Background()
	msg := nats.NewMsg(testSubject)
	msg.Data = []byte("bad")
	msg.Header.Set(proto.HeaderRunID, "run-42")
	msg.Header.Set("X-Custom", "kept")
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	publishN(t, js, testSubject, 3, 0)
	start(t, w)
	eventually(t, 10*time.Second, "everything settled", func() bool { return rec.total() == 4 && drained(t, js, cfg) })

	dls := deadLetters(t, js)
	if len(dls) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dls))
	}
	dl := dls[0]
	if dl.Stage != "test" || dl.Reason != "invalid_phone" || dl.OriginalSubject != testSubject ||
		string(dl.Data) != "bad" || dl.RunID != "run-42" || dl.Attempts != 1 ||
		dl.Headers["X-Custom"][0] != "kept" || dl.Detail == "" || dl.FailedAt == 0 {
		t.Fatalf("dead letter = %+v", dl)
	}
	if rec.deliveries("bad") != 1 {
		t.Fatalf("terminated message delivered %d times", rec.deliveries("bad"))
	}
}

// TestWorkerPermanentOnceLettersOnce: messages that meet the same failure
// (a contested email, run after run) are each dead-lettered and settled,
// and the DLQ stores one letter for it; another failure has its own.
func TestWorkerPermanentOnceLettersOnce(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	rec := newRecorder()
	w := failingWorker(t, js, cfg, rec, func(m *pipeline.Msg) error {
		situation, _, _ := strings.Cut(string(m.Data), "/")
		return pipeline.PermanentOnce("duplicate_email", situation, errors.New("email held by another user"))
	})
	ctx := context.Background()
	for i, data := range []string{"a/run-1", "a/run-2", "b/run-2", "a/run-3"} {
		msg := nats.NewMsg(testSubject)
		msg.Data = []byte(data)
		msg.Header.Set(proto.HeaderRunID, fmt.Sprint("run-", i))
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	start(t, w)
	eventually(t, 10*time.Second, "everything settled", func() bool { return rec.total() == 4 && drained(t, js, cfg) })
	dls := deadLetters(t, js)
	if len(dls) != 2 {
		t.Fatalf("%d dead letters, want 2 (one a failure)", len(dls))
	}
	if string(dls[0].Data) != "a/run-1" || string(dls[1].Data) != "b/run-2" {
		t.Errorf("letters of %q and %q, want the first message of each failure", dls[0].Data, dls[1].Data)
	}
	for _, d := range []string{"a/run-1", "a/run-2", "b/run-2", "a/run-3"} {
		if rec.deliveries(d) != 1 {
			t.Errorf("%s delivered %d times, want once (terminated)", d, rec.deliveries(d))
		}
	}
}

func TestWorkerDeadLettersAfterMaxDeliveries(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	cfg.MaxDeliver = 3
	rec := newRecorder()
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
		rec.record(b)
		return pipeline.Errors(len(b), errors.New("vendor 500"))
	})
	publishN(t, js, testSubject, 1, 0)
	start(t, w)
	eventually(t, 10*time.Second, "dead letter after 3 attempts", func() bool { return drained(t, js, cfg) && len(deadLetters(t, js)) == 1 })
	dl := deadLetters(t, js)[0]
	if dl.Reason != pipeline.ReasonMaxDeliveries || dl.Attempts != 3 || dl.Detail != "vendor 500" {
		t.Fatalf("dead letter = %+v", dl)
	}
	if n := rec.deliveries("0"); n != 3 {
		t.Fatalf("handled %d times, want exactly MaxDeliver=3", n)
	}
}

func TestWorkerPanicNaksAndRedelivers(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	rec := newRecorder()
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
		rec.record(b)
		if b[0].NumDelivered == 1 {
			panic("boom")
		}
		return nil
	})
	publishN(t, js, testSubject, 5, 0)
	start(t, w)
	eventually(t, 10*time.Second, "redelivered after the panic and acked", func() bool {
		return rec.total() == 10 && drained(t, js, cfg)
	})
	for i := range 5 {
		if got := rec.tries[fmt.Sprint(i)]; !slices.Equal(got, []uint64{1, 2}) {
			t.Fatalf("message %d deliveries %v, want [1 2]", i, got)
		}
	}
}

func TestWorkerBatching(t *testing.T) {
	for _, tc := range []struct {
		name       string
		n, size    int
		batchSize  int
		batchBytes int
		want       []int
	}{
		{name: "by count", n: 25, batchSize: 10, want: []int{10, 10, 5}},
		{name: "by bytes", n: 9, size: 300, batchSize: 100, batchBytes: 1000, want: []int{3, 3, 3}},
		{name: "oversized message alone", n: 2, size: 2000, batchSize: 100, batchBytes: 1000, want: []int{1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := setup(t)
			cfg := baseConfig()
			cfg.BatchSize, cfg.BatchBytes, cfg.BatchWait = tc.batchSize, tc.batchBytes, 300*time.Millisecond
			cfg.MaxAckPending = 1000
			rec := newRecorder()
			w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error { rec.record(b); return nil })
			publishN(t, js, testSubject, tc.n, tc.size)
			start(t, w)
			eventually(t, 10*time.Second, "all handled", func() bool { return rec.total() == tc.n })
			if got := rec.batchSizes(); !slices.Equal(got, tc.want) {
				t.Fatalf("batch sizes %v, want %v", got, tc.want)
			}
		})
	}

	// Prepare sizes each message as it arrives (here: ten times its data)
	// and what it leaves reaches the handler; the message is compacted
	// meanwhile (no data) and Load reads it back.
	t.Run("by prepared size", func(t *testing.T) {
		js := setup(t)
		cfg := baseConfig()
		cfg.BatchSize, cfg.BatchBytes, cfg.BatchWait, cfg.MaxAckPending = 100, 1000, 300*time.Millisecond, 1000
		cfg.Prepare = func(m *pipeline.Msg) int {
			m.Prepared = len(m.Data)
			return 10 * len(m.Data)
		}
		rec := newRecorder()
		var unprepared atomic.Int64
		w := newWorker(t, js, cfg, func(ctx context.Context, b []*pipeline.Msg) []error {
			for _, m := range b {
				if m.Data != nil {
					unprepared.Add(1) // not compacted
				}
				if err := m.Load(ctx); err != nil || m.Prepared != len(m.Data) || m.Header == nil {
					unprepared.Add(1)
				}
			}
			rec.record(b)
			return nil
		})
		publishN(t, js, testSubject, 9, 30)
		start(t, w)
		eventually(t, 10*time.Second, "all handled", func() bool { return rec.total() == 9 })
		if got := rec.batchSizes(); !slices.Equal(got, []int{3, 3, 3}) || unprepared.Load() != 0 {
			t.Fatalf("batch sizes %v (%d not prepared), want 3, 3, 3 (300 prepared bytes each)", got, unprepared.Load())
		}
	})

	t.Run("by time", func(t *testing.T) {
		js := setup(t)
		cfg := baseConfig()
		cfg.BatchSize, cfg.BatchWait = 100, 300*time.Millisecond
		var got atomic.Int64
		var firstAt atomic.Int64
		w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
			got.Store(int64(len(b)))
			firstAt.Store(time.Now().UnixNano())
			return nil
		})
		start(t, w)
		began := time.Now()
		publishN(t, js, testSubject, 3, 0)
		eventually(t, 5*time.Second, "a partial batch", func() bool { return got.Load() > 0 })
		waited := time.Duration(firstAt.Load() - began.UnixNano())
		if got.Load() != 3 || waited < 250*time.Millisecond || waited > 2*time.Second {
			t.Fatalf("batch of %d after %s, want 3 after about 300ms", got.Load(), waited)
		}
	})
}

func TestWorkerConcurrencyBound(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	cfg.Concurrency, cfg.BatchSize, cfg.BatchWait = 3, 2, 5*time.Millisecond
	var active, peak, handled atomic.Int64
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
		n := active.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond) // simulated vendor call
		active.Add(-1)
		handled.Add(int64(len(b)))
		return nil
	})
	publishN(t, js, testSubject, 40, 0)
	start(t, w)
	eventually(t, 10*time.Second, "all handled", func() bool { return handled.Load() == 40 })
	if p := peak.Load(); p != 3 {
		t.Fatalf("peak concurrent batches %d, want 3", p)
	}
}

func TestWorkerGracefulStopFinishesInFlight(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	cfg.BatchSize = 5
	entered := make(chan struct{})
	release := make(chan struct{})
	var ctxErr atomic.Value
	var handled atomic.Int64
	w := newWorker(t, js, cfg, func(ctx context.Context, b []*pipeline.Msg) []error {
		if handled.Load() == 0 {
			close(entered)
			<-release
		}
		if ctx.Err() != nil {
			ctxErr.Store(ctx.Err())
		}
		handled.Add(int64(len(b)))
		return nil
	})
	publishN(t, js, testSubject, 5, 0)
	stop := start(t, w)
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case err := <-stopped:
		t.Fatalf("Run returned (%v) while a batch was in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if handled.Load() != 5 || ctxErr.Load() != nil {
		t.Fatalf("handled %d (want 5), handler context error %v", handled.Load(), ctxErr.Load())
	}
	eventually(t, 5*time.Second, "in-flight batch acked", func() bool { return drained(t, js, cfg) })
}

func TestWorkerDrainTimeoutCancelsHandler(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	cfg.DrainTimeout = 200 * time.Millisecond
	entered := make(chan struct{}, 1)
	w := newWorker(t, js, cfg, func(ctx context.Context, b []*pipeline.Msg) []error {
		entered <- struct{}{}
		<-ctx.Done()
		return pipeline.Errors(len(b), ctx.Err())
	})
	publishN(t, js, testSubject, 1, 0)
	stop := start(t, w)
	<-entered
	began := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Fatalf("stop took %s with a 200ms drain timeout", took)
	}
	// The cancelled batch was nakked: another worker gets it at once.
	rec := newRecorder()
	w2 := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error { rec.record(b); return nil })
	start(t, w2)
	eventually(t, 5*time.Second, "redelivery to the next worker", func() bool { return rec.total() == 1 && drained(t, js, cfg) })
}

func TestWorkerInProgressPreventsRedelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 4s; run without -short")
	}
	js := setup(t)
	cfg := baseConfig()
	// AckWait 2s: progress every 667ms leaves room for a loaded machine.
	cfg.AckWait, cfg.Concurrency = 2*time.Second, 2
	rec := newRecorder()
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
		rec.record(b)
		time.Sleep(4 * time.Second) // a Brevo import being polled
		return nil
	})
	publishN(t, js, testSubject, 3, 0)
	start(t, w)
	eventually(t, 30*time.Second, "slow batch acked", func() bool { return rec.total() >= 3 && drained(t, js, cfg) })
	if n := rec.total(); n != 3 {
		t.Fatalf("%d deliveries of 3 messages: redelivered while in progress (tries %v)", n, rec.tries)
	}
}

// Messages fetched while every handler is busy wait in the session; they
// must be kept alive there too, or a slow import makes the server redeliver
// them and the next batch writes them a second time.
func TestWorkerWaitingMessagesAreNotRedelivered(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	cfg.AckWait, cfg.Concurrency, cfg.BatchSize = 2*time.Second, 1, 10
	cfg.MaxAckPending = 100
	rec := newRecorder()
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
		rec.record(b)
		time.Sleep(2500 * time.Millisecond) // longer than AckWait: everything behind it waits
		return nil
	})
	publishN(t, js, testSubject, 40, 0)
	start(t, w)
	eventually(t, 60*time.Second, "every message handled", func() bool { return rec.total() >= 40 && drained(t, js, cfg) })
	if n := rec.total(); n != 40 {
		t.Fatalf("%d deliveries of 40 messages: messages waiting behind a slow batch were redelivered (tries %v)", n, rec.tries)
	}
}

func TestWorkersShareOneDurable(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	cfg.BatchSize = 5
	var mu sync.Mutex
	seen := map[string]int{}
	perWorker := make([]atomic.Int64, 2)
	for i := range 2 {
		w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
			mu.Lock()
			for _, m := range b {
				seen[string(m.Data)]++
			}
			mu.Unlock()
			perWorker[i].Add(int64(len(b)))
			time.Sleep(2 * time.Millisecond)
			return nil
		})
		start(t, w)
	}
	publishN(t, js, testSubject, 300, 0)
	eventually(t, 20*time.Second, "300 handled", func() bool { return perWorker[0].Load()+perWorker[1].Load() >= 300 && drained(t, js, cfg) })
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 300 {
		t.Fatalf("%d distinct messages handled, want 300", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("message %s handled %d times", k, n)
		}
	}
	if perWorker[0].Load() == 0 || perWorker[1].Load() == 0 {
		t.Fatalf("work not shared: %d / %d", perWorker[0].Load(), perWorker[1].Load())
	}
}

func TestWorkerPausedStopsFetching(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	cfg.PausePoll = 10 * time.Millisecond
	var paused atomic.Bool
	var polls atomic.Int64
	paused.Store(true)
	cfg.Paused = func() bool { polls.Add(1); return paused.Load() }
	var handled atomic.Int64
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error { handled.Add(int64(len(b))); return nil })
	publishN(t, js, testSubject, 10, 0)
	start(t, w)
	eventually(t, 5*time.Second, "several pause polls", func() bool { return polls.Load() >= 5 })
	if handled.Load() != 0 {
		t.Fatalf("handled %d messages while paused", handled.Load())
	}
	c, err := js.Consumer(context.Background(), cfg.Stream, pipeline.DurableName(cfg.Stage, cfg.Subject))
	if err != nil {
		t.Fatal(err)
	}
	if i := c.CachedInfo(); i.NumAckPending != 0 || i.NumPending != 10 {
		t.Fatalf("paused worker fetched: pending %d, ack pending %d", i.NumPending, i.NumAckPending)
	}
	paused.Store(false)
	eventually(t, 5*time.Second, "handled after resume", func() bool { return handled.Load() == 10 && drained(t, js, cfg) })
}

func TestWorkerObserveReportsOutcomes(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	var mu sync.Mutex
	kinds := map[pipeline.OutcomeKind]int{}
	cfg.Observe = func(_ *pipeline.Msg, o pipeline.Outcome) { mu.Lock(); kinds[o.Kind]++; mu.Unlock() }
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
		errs := make([]error, len(b))
		for i, m := range b {
			if string(m.Data) == "1" {
				errs[i] = pipeline.Permanent("bad", nil)
			}
		}
		return errs
	})
	publishN(t, js, testSubject, 3, 0)
	start(t, w)
	eventually(t, 5*time.Second, "three outcomes", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return kinds[pipeline.Acked] == 2 && kinds[pipeline.DeadLettered] == 1
	})
}

// A prepared message is compacted as it arrives (no headers or data held):
// it is still acked, retried after a delay, and dead-lettered with its
// headers and data read back from the stream, its ledger line intact.
func TestWorkerCompactedMessages(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	cfg.Prepare = func(m *pipeline.Msg) int {
		m.Prepared = string(m.Data)
		return len(m.Data)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
		mu.Lock()
		defer mu.Unlock()
		errs := make([]error, len(b))
		for i, m := range b {
			body := m.Prepared.(string)
			seen[body]++
			if m.Data != nil || m.Header != nil {
				errs[i] = errors.New("not compacted")
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
	ctx := context.Background()
	for _, body := range []string{"bad", "later", "fine"} {
		msg := nats.NewMsg(testSubject)
		msg.Data = []byte(body)
		msg.Header.Set(proto.HeaderRunID, "run-42")
		msg.Header.Set("X-Custom", "kept")
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	start(t, w)
	eventually(t, 10*time.Second, "everything settled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return seen["later"] == 2 && drained(t, js, cfg)
	})
	dls := deadLetters(t, js)
	if len(dls) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dls))
	}
	if dl := dls[0]; string(dl.Data) != "bad" || dl.RunID != "run-42" || dl.Headers["X-Custom"][0] != "kept" {
		t.Fatalf("dead letter of a compacted message = %+v", dl)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["fine"] != 1 || seen["bad"] != 1 {
		t.Fatalf("deliveries %v: want fine and bad once, later twice", seen)
	}
}

// A batch whose wait ran out while every handler was busy is not handed
// over half empty the instant one frees: the acks of the batch just done
// let more messages in, and it gets BatchWait to take them (here it fills).
func TestWorkerLateBatchFillsOnceAHandlerFrees(t *testing.T) {
	for _, maxWait := range []time.Duration{0, 400 * time.Millisecond} {
		t.Run(fmt.Sprintf("batch_max_wait %s", maxWait), func(t *testing.T) { testLateBatch(t, maxWait) })
	}
}

// testLateBatch: with an idle gap (maxWait) too, the batch's wait starts
// again when a handler frees, long after its first message: the messages
// that come then, one every 40 ms, fill it.
func testLateBatch(t *testing.T, maxWait time.Duration) {
	js := setup(t)
	cfg := baseConfig()
	cfg.Concurrency, cfg.BatchSize, cfg.BatchWait, cfg.MaxAckPending = 1, 10, 200*time.Millisecond, 15
	cfg.BatchMaxWait = maxWait
	release := make(chan struct{})
	rec := newRecorder()
	var calls atomic.Int32
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error {
		rec.record(b)
		if calls.Add(1) == 1 {
			<-release // the first batch is slow: the server lets only 5 more in
		}
		return nil
	})
	publishN(t, js, testSubject, 15, 0)
	start(t, w)
	eventually(t, 5*time.Second, "the first batch", func() bool { return calls.Load() == 1 })
	time.Sleep(3 * cfg.BatchWait) // the second batch's wait runs out meanwhile
	close(release)
	for i := range 10 {
		if _, err := js.Publish(context.Background(), testSubject, fmt.Appendf(nil, "later-%d", i)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(40 * time.Millisecond)
	}
	eventually(t, 10*time.Second, "all handled", func() bool { return rec.total() == 25 })
	if got := rec.batchSizes(); len(got) < 2 || got[0] != 10 || got[1] != 10 {
		t.Fatalf("batch sizes %v, want the second batch filled to 10 once the first was done", got)
	}
}

// With BatchMaxWait, BatchWait is an idle gap: messages that keep coming
// (a full sync) fill one batch past BatchWait, within BatchMaxWait; a pause
// of BatchWait cuts it.
func TestWorkerBatchWaitAsIdleGap(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	cfg.BatchSize, cfg.BatchWait, cfg.BatchMaxWait, cfg.MaxAckPending = 1000, 300*time.Millisecond, 5*time.Second, 1000
	rec := newRecorder()
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error { rec.record(b); return nil })
	start(t, w)
	// Eight messages 100 ms apart (800 ms in all, longer than BatchWait),
	// a pause, then two more.
	publish := func(i int) {
		t.Helper()
		if _, err := js.Publish(context.Background(), testSubject, fmt.Appendf(nil, "idle-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 8 {
		publish(i)
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(600 * time.Millisecond)
	publish(8)
	publish(9)
	eventually(t, 10*time.Second, "all handled", func() bool { return rec.total() == 10 })
	if got := rec.batchSizes(); !slices.Equal(got, []int{8, 2}) {
		t.Fatalf("batch sizes %v, want 8 (kept coming) then 2 (after a pause)", got)
	}
}

func TestWorkerCaughtUpCutsTheBatchBeforeBatchWait(t *testing.T) {
	js := setup(t)
	cfg := baseConfig()
	// Without CaughtUp, these messages would wait 10 s.
	cfg.BatchSize, cfg.BatchWait, cfg.BatchMaxWait, cfg.MaxAckPending = 1000, 10*time.Second, 100*time.Second, 1000
	var (
		ready atomic.Bool
		mu    sync.Mutex
		asked [][]string
	)
	cfg.CaughtUp = func(_ context.Context, runs []string) bool {
		mu.Lock()
		asked = append(asked, runs)
		mu.Unlock()
		return ready.Load()
	}
	rec := newRecorder()
	w := newWorker(t, js, cfg, func(_ context.Context, b []*pipeline.Msg) []error { rec.record(b); return nil })
	start(t, w)
	publishN(t, js, testSubject, 5, 10) // run "run-1"
	questions := func() int { mu.Lock(); defer mu.Unlock(); return len(asked) }
	eventually(t, 5*time.Second, "CaughtUp asked", func() bool { return questions() >= 3 })
	if n := rec.total(); n != 0 {
		t.Fatalf("%d messages handled while CaughtUp said no, want none before BatchWait", n)
	}
	mu.Lock()
	if got := asked[0]; !slices.Equal(got, []string{"run-1"}) {
		t.Errorf("CaughtUp asked about runs %q, want [run-1]", got)
	}
	mu.Unlock()
	began := time.Now()
	ready.Store(true)
	eventually(t, 3*time.Second, "the batch dispatched once caught up", func() bool { return rec.total() == 5 })
	if got := rec.batchSizes(); !slices.Equal(got, []int{5}) {
		t.Fatalf("batch sizes %v, want one batch of 5", got)
	}
	t.Logf("dispatched %v after CaughtUp said yes (BatchWait %v)", time.Since(began).Round(time.Millisecond), cfg.BatchWait)
	// Nothing held: no more questions once the batch went.
	n := questions()
	time.Sleep(200 * time.Millisecond)
	if m := questions(); m != n {
		t.Errorf("CaughtUp asked %d more times with no batch held", m-n)
	}
}
