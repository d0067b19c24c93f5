package natsx_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/proto"
)

func TestProvisionIsIdempotentAndConcurrent(t *testing.T) {
	e := natsxtest.Server(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	const procs = 4
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for range procs {
		_, js := natsxtest.Conn(t, e) // a connection per "process"
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- natsx.Provision(ctx, js, natsx.ProvisionOptions{})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent provision: %v", err)
		}
	}

	_, js := natsxtest.Conn(t, e)
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{}); err != nil {
		t.Fatalf("second provision: %v", err)
	}

	raw, err := js.Stream(ctx, proto.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	cfg := raw.CachedInfo().Config
	if cfg.Retention != jetstream.WorkQueuePolicy || cfg.Storage != jetstream.FileStorage || cfg.Duplicates != 30*time.Second {
		t.Fatalf("RAW config: retention %v storage %v dedup %v", cfg.Retention, cfg.Storage, cfg.Duplicates)
	}
	dlq, err := js.Stream(ctx, proto.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	if c := dlq.CachedInfo().Config; c.Retention != jetstream.LimitsPolicy || c.MaxAge != 30*24*time.Hour {
		t.Fatalf("DLQ config: retention %v max age %v", c.Retention, c.MaxAge)
	}
	for _, b := range []string{proto.BucketState, proto.BucketFingerprints} {
		kv, err := js.KeyValue(ctx, b)
		if err != nil {
			t.Fatalf("bucket %s: %v", b, err)
		}
		st, err := kv.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.History() != 1 {
			t.Fatalf("bucket %s history %d, want 1", b, st.History())
		}
	}
}

func TestProvisionAppliesChangedOptions(t *testing.T) {
	_, _, js := natsxtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{AuditMaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, proto.StreamAudit)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.MaxAge; got != time.Hour {
		t.Fatalf("AUDIT max age %v, want 1h", got)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":                     "nats://127.0.0.1:4222",
		"nats://user:secret@h:4222,nats://tok@h2:1": "nats://redacted@h:4222,nats://redacted@h2:1",
	} {
		if got := natsx.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConnectGivesUpWithContextAndNamesURL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	_, err := natsx.Connect(ctx, "nats://u:hunter2@127.0.0.1:1", "test")
	if err == nil {
		t.Fatal("want error connecting to a closed port")
	}
	msg := err.Error()
	if want := "127.0.0.1:1"; !strings.Contains(msg, want) || strings.Contains(msg, "hunter2") {
		t.Fatalf("error should name the URL without the password: %s", msg)
	}
}
