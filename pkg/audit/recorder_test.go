package audit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/tools/sandbox"
)

const (
	brazeKey = "audit-test-braze-key-0123456789"
	brevoKey = "xkeysib-audit-test-0123456789abcdef"
)

// TestRecorderRecordsVendorCalls drives both real clients against the
// simulators with a Recorder as their Observer, and reads the entries back
// from a real AUDIT stream: what was called, by whom, in which run, how it
// failed, and nothing secret.
func TestRecorderRecordsVendorCalls(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, js := natsxtest.Start(t)
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(ctx, sandbox.Options{Users: 5, BrazeAPIKey: brazeKey, BrevoAPIKey: brevoKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })

	rec := New(js, Options{})
	t.Cleanup(func() { _ = rec.Close(context.Background()) })
	if err := st.SetLastRun(ctx, "users", "run-before"); err != nil {
		t.Fatal(err)
	}
	if err := rec.FollowRuns(ctx, st.KeyValue(), "users"); err != nil {
		t.Fatal(err)
	}
	if rec.Run() != "run-before" {
		t.Fatalf("FollowRuns returned before the current run was known: %q", rec.Run())
	}

	bz, err := braze.New(braze.Config{BaseURL: sb.BrazeURL, APIKey: brazeKey, Observer: rec.Observer("extractor")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bz.ListSegments(ctx, 0); err != nil {
		t.Fatal(err)
	}
	// A new run: later calls carry it, as soon as the watch delivers it.
	if err := st.SetLastRun(ctx, "users", "run-2"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return rec.Run() == "run-2" })
	bv, err := brevo.New(brevo.Config{BaseURL: sb.BrevoURL, APIKey: brevoKey, Observer: rec.Observer("loader")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bv.Contact(ctx, "jane.doe@example.com", "email_id"); err == nil {
		t.Fatal("an unknown contact was found")
	}
	wrong, err := braze.New(braze.Config{BaseURL: sb.BrazeURL, APIKey: "wrong-key-0123456789", Observer: rec.Observer("cli")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.ListSegments(ctx, 0); err == nil {
		t.Fatal("a wrong key was accepted")
	}
	if err := rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	var got []Entry
	if err := Tail(ctx, js, 100, false, func(e Entry) { got = append(got, e) }); err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Vendor: "braze", Method: http.MethodGet, Path: "/segments/list", Status: 200, Attempt: 1, RunID: "run-before", Service: "extractor"},
		{Vendor: "brevo", Method: http.MethodGet, Path: "/contacts/{identifier}", Status: 404, Attempt: 1, RunID: "run-2", Service: "loader", ErrorClass: ClassNotFound},
		{Vendor: "braze", Method: http.MethodGet, Path: "/segments/list", Status: 401, Attempt: 1, RunID: "run-2", Service: "cli", ErrorClass: ClassUnauthorized},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, e := range got {
		if e.Time.IsZero() || e.Duration <= 0 || e.V != SchemaVersion {
			t.Errorf("entry %d lacks time, duration or version: %+v", i, e)
		}
		e.Time, e.Duration, e.V = time.Time{}, 0, 0
		if e != want[i] {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, e, want[i])
		}
	}
	if s := rec.Stats(); s.Published != 3 || s.Dropped != 0 || s.Retries != 0 {
		t.Errorf("stats %+v", s)
	}

	// The raw stream holds neither key nor the e-mail looked up.
	stream, err := js.Stream(ctx, "AUDIT")
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 3; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{brazeKey, brevoKey, "wrong-key", "jane.doe", "example.com"} {
			if bytes.Contains(m.Data, []byte(secret)) {
				t.Errorf("audit message %d on %s holds %q", seq, m.Subject, secret)
			}
		}
	}
}

// blockingPublisher stands in for a NATS server that stopped answering.
type blockingPublisher struct {
	release chan struct{}
	mu      sync.Mutex
	n       int
}

func (p *blockingPublisher) Publish(ctx context.Context, _ string, _ []byte, _ ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	select {
	case <-p.release:
		p.mu.Lock()
		p.n++
		p.mu.Unlock()
		return &jetstream.PubAck{}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// syncBuffer is a log destination the publisher goroutine and the test
// share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRecordWaitsForRoom: with the publisher stuck and the buffer full,
// Record waits (back-pressure) rather than drop; once the publisher moves,
// every entry is published and the streak is logged once.
func TestRecordWaitsForRoom(t *testing.T) {
	pub := &blockingPublisher{release: make(chan struct{})}
	var logs syncBuffer
	rec := New(pub, Options{Buffer: 4, PublishTimeout: time.Minute, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	observe := rec.Observer("loader")
	const calls = 100
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range calls {
			observe(brevo.Call{Vendor: "brevo", Method: "POST", Path: "/contacts/import", Status: 202, Attempt: 1})
		}
	}()
	waitFor(t, func() bool { return strings.Contains(logs.String(), "audit publishing is behind") })
	select {
	case <-done:
		t.Fatal("all observations returned with the publisher stuck: entries were dropped")
	case <-time.After(50 * time.Millisecond):
	}
	close(pub.release)
	<-done
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if s := rec.Stats(); s.Published != calls || s.Dropped != 0 {
		t.Errorf("stats %+v: want every one of %d published", s, calls)
	}
	if n := strings.Count(logs.String(), "audit publishing is behind"); n != 1 {
		t.Errorf("the streak was logged %d times, want once:\n%s", n, logs.String())
	}
}

// TestCloseIsBounded: a publisher that never answers cannot hold shutdown
// past the close timeout.
func TestCloseIsBounded(t *testing.T) {
	pub := &blockingPublisher{release: make(chan struct{})}
	rec := New(pub, Options{PublishTimeout: time.Hour, CloseTimeout: 100 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	rec.Record(Entry{Vendor: "braze", Method: "GET", Path: "/segments/list"})
	rec.Record(Entry{Vendor: "braze", Method: "GET", Path: "/segments/list"})
	start := time.Now()
	err := rec.Close(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := rec.Flush(context.Background()); err == nil {
		t.Error("Flush after Close succeeded")
	}
}

func TestLogCalls(t *testing.T) {
	var logs syncBuffer
	rec := New(&blockingPublisher{release: make(chan struct{})}, Options{LogCalls: true,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), CloseTimeout: 50 * time.Millisecond})
	defer func() { _ = rec.Close(context.Background()) }()
	rec.SetRun("r1")
	rec.Observer("extractor")(braze.Call{Vendor: "braze", Method: "POST", Path: "/users/export/segment",
		Status: 201, Duration: 1500 * time.Microsecond, Attempt: 1})
	line := logs.String()
	for _, want := range []string{"level=INFO", `msg="api call"`, "vendor=braze", "method=POST",
		"path=/users/export/segment", "status=201", "duration=1.5ms", "run=r1", "service=extractor"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %s:\n%s", want, line)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
