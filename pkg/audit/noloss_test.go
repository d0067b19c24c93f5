package audit

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/tools/sandbox"
)

// slowPublisher is a JetStream whose publishes take a while: a NATS server
// under load, slower than the vendor calls being recorded.
type slowPublisher struct {
	Publisher
	delay time.Duration
}

func (p slowPublisher) Publish(ctx context.Context, subj string, data []byte, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	time.Sleep(p.delay)
	return p.Publisher.Publish(ctx, subj, data, opts...)
}

// served is how many requests the simulators answered.
func served(sb *sandbox.Sandbox) int {
	n := 0
	for _, c := range sb.Braze.Requests() {
		n += c
	}
	for _, c := range sb.Brevo.Requests() {
		n += c
	}
	return n
}

// auditCount is how many entries the AUDIT stream holds.
func auditCount(t *testing.T, js jetstream.JetStream) int {
	t.Helper()
	s, err := js.Stream(context.Background(), proto.StreamAudit)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(info.State.Msgs)
}

// Under load, with a publisher slower than the calls and a small buffer,
// every call the simulators answered has its entry in AUDIT.
func TestEveryCallIsRecordedUnderLoad(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, _, js := natsxtest.Start(t)
	sb, err := sandbox.Start(ctx, sandbox.Options{Users: 5, BrazeAPIKey: brazeKey, BrevoAPIKey: brevoKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	rec := New(slowPublisher{Publisher: js, delay: 200 * time.Microsecond}, Options{Buffer: 8, Logger: slog.New(slog.DiscardHandler)})
	bz, err := braze.New(braze.Config{BaseURL: sb.BrazeURL, APIKey: brazeKey, Observer: rec.Observer("extractor")})
	if err != nil {
		t.Fatal(err)
	}
	bv, err := brevo.New(brevo.Config{BaseURL: sb.BrevoURL, APIKey: brevoKey, Observer: rec.Observer("loader")})
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 16, 60
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if (w+i)%2 == 0 {
					_, _ = bz.ListSegments(ctx, 0)
				} else {
					_, _ = bv.Contact(ctx, "nobody@example.com", "email_id")
				}
			}
		}()
	}
	wg.Wait()
	if err := rec.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	if got, want := auditCount(t, js), served(sb); got != want || want != workers*each {
		t.Fatalf("AUDIT holds %d entries; the simulators answered %d calls (%d made)", got, want, workers*each)
	}
	if s := rec.Stats(); s.Dropped != 0 || s.Spooled != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// Entries a Recorder could not publish before it closed (the NATS server
// was down) are kept in the spool, and the next Recorder on that spool
// ships them: AUDIT ends up with every call. A Recorder with no bus (the
// CLI's) spools everything, shipped the same way.
func TestSpoolKeepsWhatTheBusDidNotTake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	spoolDir := filepath.Join(t.TempDir(), "audit-spool")
	quiet := slog.New(slog.DiscardHandler)

	down := natsxtest.Server(t)
	nc, js := natsxtest.Conn(t, down)
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{}); err != nil {
		t.Fatal(err)
	}
	rec := New(js, Options{Spool: spoolDir, PublishTimeout: 200 * time.Millisecond, CloseTimeout: 500 * time.Millisecond, Logger: quiet})
	rec.Record(Entry{Vendor: "braze", Method: "GET", Path: "/segments/list", Status: 200})
	if err := rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	down.Shutdown() // the server goes away mid-run
	const whileDown = 20
	for range whileDown {
		rec.Record(Entry{Vendor: "brevo", Method: "POST", Path: "/contacts/import", Status: 202})
	}
	if err := rec.Close(ctx); err != nil {
		t.Fatalf("close with the entries spooled: %v", err)
	}
	nc.Close()
	if s := rec.Stats(); s.Published != 1 || s.Spooled != whileDown || s.Dropped != 0 {
		t.Fatalf("stats %+v: want 1 published and %d spooled", s, whileDown)
	}

	cli := New(nil, Options{Spool: spoolDir, Logger: quiet})
	cli.Record(Entry{Vendor: "braze", Method: "GET", Path: "/segments/list", Status: 401, Service: "cli"})
	if err := cli.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(spoolDir, spoolPattern)); len(files) != 2 {
		t.Fatalf("spool files %v, want the worker's and the CLI's", files)
	}
	for _, f := range mustGlob(t, spoolDir) {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("spool file %s: %v %v", f, fi.Mode(), err)
		}
	}

	_, _, js2 := natsxtest.Start(t)
	next := New(js2, Options{Spool: spoolDir, Logger: quiet})
	if err := next.Flush(ctx); err != nil { // the spool is shipped before anything queued
		t.Fatal(err)
	}
	if got := auditCount(t, js2); got != whileDown+1 {
		t.Fatalf("AUDIT holds %d entries after shipping, want %d", got, whileDown+1)
	}
	if left := mustGlob(t, spoolDir); len(left) != 0 {
		t.Fatalf("spool files left after shipping: %v", left)
	}
	if err := next.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func mustGlob(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, spoolPattern))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
