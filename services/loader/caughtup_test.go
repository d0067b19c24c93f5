package loader_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/loader"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// The last batch of a sync goes as soon as the sync has nothing more for
// it, not batch_wait after its last upsert: while the run's export is
// still being published the upserts wait, and once the extractor recorded
// it exported (and the transformer has nothing left) they are imported
// at once. batch_wait here is 10s: a loader that waited for it fails.
func TestLastBatchGoesOnceTheSyncIsCaughtUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 5 * time.Millisecond})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	_, _, js := natsxtest.Start(t)
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	// The transformer's consumer, with nothing left of RAW.
	if _, err := js.CreateConsumer(ctx, proto.StreamRaw, jetstream.ConsumerConfig{Durable: proto.DurableTransformerUsers,
		FilterSubject: proto.SubjectRawBrazeUsers, AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	run := &proto.SyncRun{ID: "r-caught-up", Type: "incremental", Status: proto.RunRunning}
	if err := st.PutRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	l := buildLoader(t, js, brevo.Config{BaseURL: srv.URL + "/v3", APIKey: key}, loader.Config{
		BatchWait: 10 * time.Second, ImportThreshold: 10, FirstPoll: 10 * time.Millisecond, OtherPerHour: 1 << 30,
	})
	const users = 40
	p := pipeline.NewPublisher(js, users)
	for i := range users {
		ext := fmt.Sprintf("cu_%03d", i)
		data, err := proto.Encode(&proto.ContactUpsert{V: proto.SchemaVersion, RunID: run.ID, Key: ext, ExtID: ext,
			Email: ext + "@example.com", Attributes: map[string]any{"FIRSTNAME": ext}, SourceVersion: 1, Fingerprint: ext})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Publish(ctx, proto.SubjectOpsBrevoContactsUpsert, "up-"+ext, nats.Header{proto.HeaderRunID: {run.ID}}, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.Run(rctx) }()
	defer func() { stop(); <-done }()

	// The run is still publishing: the batch waits (for batch_wait, 10s).
	time.Sleep(1500 * time.Millisecond)
	if n := len(sim.Contacts()); n != 0 {
		t.Fatalf("Brevo holds %d contacts while the run is still publishing, want the batch to wait", n)
	}
	run.Status = proto.RunExported
	if err := st.PutRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	for len(sim.Contacts()) < users {
		if time.Since(began) > 5*time.Second {
			t.Fatalf("Brevo holds %d of %d contacts 5s after the run was exported: the batch waited for batch_wait (10s)",
				len(sim.Contacts()), users)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("imported %v after the run was exported (batch_wait 10s)", time.Since(began).Round(time.Millisecond))
}
