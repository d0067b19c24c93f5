package loader_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/loader"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// The contact lost by `make chaos` on a busy machine (issue 7): two Braze
// users share a phone. The loader imports the first, B; Brevo completes the
// import, and the loader is killed before it learns so (it polls the import
// process sparingly). Before the fix, the loader recorded claims only after
// the write, so B's claim of the SMS was lost with the process; the next
// loader let A claim the SMS, and Brevo's import dropped A's row without a
// word (its SMS belongs to B's contact): A was never written, while its
// claim and fingerprint said it was. Claims are now written before the
// write, so A is written without the SMS, and nothing is lost.
func TestKilledAfterImportLosesNoContact(t *testing.T) {
	ctx := context.Background()
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 300 * time.Millisecond})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	ns, _, js := natsxtest.Start(t)

	const phone = "+33612345678"
	cfg := loader.Config{
		BatchSize: 1, ImportThreshold: 1, BatchWait: 10 * time.Millisecond,
		AckWait:   3 * time.Second,
		FirstPoll: 2 * time.Second, // the kill lands before the first poll
	}
	start := func() (kill func()) {
		nc, js := natsxtest.Conn(t, ns)
		l := buildLoader(t, js, brevo.Config{BaseURL: srv.URL + "/v3", APIKey: key}, cfg)
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = l.Run(rctx) }()
		return func() { nc.Close(); cancel(); <-done }
	}
	publish := func(extID string) {
		t.Helper()
		up := &proto.ContactUpsert{V: proto.SchemaVersion, RunID: "r", Key: extID, ExtID: extID,
			Email: extID + "@example.com", Attributes: map[string]any{"SMS": phone, "FIRSTNAME": extID},
			SourceVersion: 1, Fingerprint: "fp-" + extID}
		data, err := proto.Encode(up)
		if err != nil {
			t.Fatal(err)
		}
		p := pipeline.NewPublisher(js, 0)
		if err := p.Publish(ctx, proto.SubjectOpsBrevoContactsUpsert, "up-"+extID, nats.Header{proto.HeaderRunID: {"r"}}, data); err != nil {
			t.Fatal(err)
		}
		if err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(what string, within time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out after %s waiting for %s", within, what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	kill := start()
	publish("b")
	waitFor("B's import to complete at Brevo", 20*time.Second, func() bool { _, ok := sim.ContactByExtID("b"); return ok })
	kill() // between Brevo's completion and the loader's next poll

	// The dead loader's import lease would keep the next one waiting for its
	// 30 s TTL; the test lets it lapse at once.
	kv, err := js.KeyValue(ctx, proto.BucketState)
	if err != nil {
		t.Fatal(err)
	}
	_ = kv.Purge(ctx, "lease.brevo.contacts.import")

	kill = start()
	defer kill()
	publish("a") // handled before B comes back (after AckWait)
	waitFor("both upserts settled", 60*time.Second, func() bool {
		c, err := js.Consumer(ctx, proto.StreamOps, loader.Durable)
		if err != nil {
			return false
		}
		i, err := c.Info(ctx)
		return err == nil && i.NumPending == 0 && i.NumAckPending == 0 && i.Delivered.Consumer >= 3
	})

	a, okA := sim.ContactByExtID("a")
	b, okB := sim.ContactByExtID("b")
	if !okA || !okB {
		t.Fatalf("Brevo holds a: %v, b: %v; want both contacts", okA, okB)
	}
	if b.SMS != phone || a.SMS != "" {
		t.Errorf("SMS of a %q, of b %q: want b, written first, to keep it", a.SMS, b.SMS)
	}
	// A's side letter says it was synced without the SMS.
	s, err := js.Stream(ctx, proto.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter("dlq.loader.>"))
	if err != nil {
		t.Fatal(err)
	}
	if n := info.State.Subjects[proto.DLQSubject(proto.StageLoader, "sms_taken")]; n != 1 {
		t.Errorf("%d sms_taken side letters, want 1 (subjects %v)", n, info.State.Subjects)
	}
}

// A contact written again with the identifiers it already holds (its
// applied record names them) claims nothing: the claims bucket is not even
// read, so a re-sync of changed attributes costs it nothing. A contact that
// changes its email still claims the new one.
func TestHeldIdentifiersAreNotClaimedAgain(t *testing.T) {
	ctx := context.Background()
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 1})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	_, _, js := natsxtest.Start(t)
	l := buildLoader(t, js, brevo.Config{BaseURL: srv.URL + "/v3", APIKey: key},
		loader.Config{ImportThreshold: 1000, FirstPoll: 20 * time.Millisecond, OtherPerHour: 1 << 30})
	if err := l.EnsureAttributes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.EnsureList(ctx); err != nil {
		t.Fatal(err)
	}
	write := func(version int64, email func(i int) string) {
		t.Helper()
		var batch []*pipeline.Msg
		for i := range 20 {
			id := fmt.Sprintf("u%02d", i)
			m := upsert(t, id, version, map[string]any{"SMS": fmt.Sprintf("+336111111%02d", i), "FIRSTNAME": fmt.Sprint(id, version)})
			var up proto.ContactUpsert
			if err := proto.Decode(m.Data, &up); err != nil {
				t.Fatal(err)
			}
			up.Email = email(i)
			data, err := proto.Encode(&up)
			if err != nil {
				t.Fatal(err)
			}
			m.Data = data
			batch = append(batch, m)
		}
		for i, err := range handle(l).HandleBatch(ctx, batch) {
			if err != nil {
				t.Fatalf("upsert %d: %v", i, err)
			}
		}
	}
	// Every read of the claims bucket is a direct get on this subject; a
	// plain subscription sees each request.
	var reads atomic.Int32
	sub, err := js.Conn().Subscribe("$JS.API.DIRECT.GET.KV_"+proto.BucketClaims, func(*nats.Msg) { reads.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	claimReads := func() int32 {
		t.Helper()
		if err := js.Conn().Flush(); err != nil {
			t.Fatal(err)
		}
		return reads.Load()
	}
	same := func(i int) string { return fmt.Sprintf("u%02d@example.com", i) }

	write(1, same)
	first := claimReads()
	if first == 0 {
		t.Fatal("the first write read no claim")
	}
	write(2, same)
	if got := claimReads(); got != first {
		t.Errorf("an update keeping its email and SMS read the claims %d times, want none", got-first)
	}
	if c, _ := sim.ContactByExtID("u07"); c.Email != "u07@example.com" || c.SMS != "+33611111107" || c.Attributes["FIRSTNAME"] != "u072" {
		t.Errorf("u07 after the update: %+v", c)
	}

	write(3, func(i int) string {
		if i == 7 {
			return "new07@example.com"
		}
		return same(i)
	})
	if got := claimReads(); got == first {
		t.Error("a new email was written without reading its claim")
	}
	if c, _ := sim.ContactByExtID("u07"); c.Email != "new07@example.com" {
		t.Errorf("u07 holds %q after changing its email, want new07@example.com", c.Email)
	}
}

// The operator is told of contacts written without an identifier once a
// batch, with the count by reason, not once a contact (thousands on a first
// sync): each letter is in the DLQ.
func TestSideLettersAreToldOnceABatch(t *testing.T) {
	var logs lockedBuffer
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 1})
	l := newLoader(t, sim, loader.Config{ImportThreshold: 1,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	var batch []*pipeline.Msg
	for _, id := range []string{"a", "b", "c", "d"} {
		data, err := proto.Encode(&proto.ContactUpsert{V: proto.SchemaVersion, RunID: "r", Key: id, ExtID: id,
			Email: "shared@example.com", Attributes: map[string]any{"FIRSTNAME": id}, SourceVersion: 1, Fingerprint: id})
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, &pipeline.Msg{Subject: proto.SubjectOpsBrevoContactsUpsert, Header: nats.Header{}, Data: data})
	}
	for i, err := range handle(l)(context.Background(), batch) {
		if err != nil {
			t.Fatalf("upsert %d: %v", i, err)
		}
	}
	var told []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "without an identifier") {
			told = append(told, line)
		}
	}
	if len(told) != 1 || !strings.Contains(told[0], "level=WARN") || !strings.Contains(told[0], "loader.email_taken=3") {
		t.Fatalf("log lines about contacts written without an identifier:\n%s\nwant one warning counting loader.email_taken=3",
			strings.Join(told, "\n"))
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
