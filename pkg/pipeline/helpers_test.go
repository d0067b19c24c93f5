package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/restcall"
	"github.com/tajo-sync/tajo/proto"
)

const testSubject = "raw.test.items"

func setup(t testing.TB) jetstream.JetStream {
	t.Helper()
	_, _, js := natsxtest.Start(t)
	return js
}

func baseConfig() pipeline.Config {
	return pipeline.Config{
		Stream:    proto.StreamRaw,
		Subject:   testSubject,
		Stage:     "test",
		BatchWait: 20 * time.Millisecond,
		Backoff:   pipeline.Backoff{Backoff: restcall.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}},
	}
}

// publishN publishes n messages "0".."n-1" synchronously.
func publishN(t testing.TB, js jetstream.JetStream, subject string, n int, size int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := pipeline.NewPublisher(js, 0)
	for i := range n {
		data := fmt.Appendf(nil, "%d", i)
		if len(data) < size {
			data = append(data, make([]byte, size-len(data))...)
		}
		hdr := nats.Header{proto.HeaderRunID: []string{"run-1"}}
		if err := p.Publish(ctx, subject, fmt.Sprintf("m-%d", i), hdr, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// start runs w until the test ends (or stop is called) and returns stop,
// which cancels Run and returns its error.
func start(t testing.TB, w *pipeline.Worker) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				err = errors.New("worker did not stop within 60s")
			}
		})
		return err
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stopping worker: %v", err)
		}
	})
	return stop
}

func newWorker(t testing.TB, js jetstream.JetStream, cfg pipeline.Config, h pipeline.HandlerFunc) *pipeline.Worker {
	t.Helper()
	w, err := pipeline.NewWorker(js, cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// drained reports whether the consumer has nothing pending nor unacked.
func drained(t testing.TB, js jetstream.JetStream, cfg pipeline.Config) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	name := cfg.Durable
	if name == "" {
		name = pipeline.DurableName(cfg.Stage, cfg.Subject)
	}
	c, err := js.Consumer(ctx, cfg.Stream, name)
	if err != nil {
		t.Fatal(err)
	}
	i := c.CachedInfo()
	return i.NumPending == 0 && i.NumAckPending == 0
}

// deadLetters reads every message of the DLQ stream.
func deadLetters(t testing.TB, js jetstream.JetStream) []*proto.DeadLetter {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, proto.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	var out []*proto.DeadLetter
	last := s.CachedInfo().State.LastSeq
	for seq := uint64(1); seq <= last; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		var dl proto.DeadLetter
		if err := proto.Decode(m.Data, &dl); err != nil {
			t.Fatal(err)
		}
		if want := proto.DLQSubject(dl.Stage, dl.Reason); m.Subject != want {
			t.Fatalf("dead letter on %s, want %s", m.Subject, want)
		}
		out = append(out, &dl)
	}
	return out
}

// recorder records every delivery the handler sees.
type recorder struct {
	mu      sync.Mutex
	batches [][]*pipeline.Msg
	seen    map[string][]time.Time
	tries   map[string][]uint64
}

func newRecorder() *recorder {
	return &recorder{seen: map[string][]time.Time{}, tries: map[string][]uint64{}}
}

func (r *recorder) record(batch []*pipeline.Msg) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, batch)
	for _, m := range batch {
		k := string(m.Data)
		r.seen[k] = append(r.seen[k], time.Now())
		r.tries[k] = append(r.tries[k], m.NumDelivered)
	}
}

func (r *recorder) deliveries(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen[key])
}

func (r *recorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.seen {
		n += len(v)
	}
	return n
}

func (r *recorder) batchSizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, b := range r.batches {
		out = append(out, len(b))
	}
	return out
}
