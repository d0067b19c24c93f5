package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// A stage: consume raw.braze.users in batches, dead-letter what cannot be
// parsed, ack the rest.
func ExampleWorker() {
	dir, _ := os.MkdirTemp("", "tajo-example")
	defer os.RemoveAll(dir)
	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: dir})
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nc, err := natsx.Connect(ctx, srv.ClientURL(), "example")
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{}); err != nil {
		panic(err)
	}

	var ok, bad atomic.Int64
	w, err := pipeline.NewWorker(js, pipeline.Config{
		Stream: proto.StreamRaw, Subject: proto.SubjectRawBrazeUsers, Stage: proto.StageTransformer,
		BatchWait: 10 * time.Millisecond,
	}, pipeline.HandlerFunc(func(ctx context.Context, batch []*pipeline.Msg) []error {
		errs := make([]error, len(batch))
		for i, m := range batch {
			if m.Data[0] != '{' {
				errs[i] = pipeline.Permanent("malformed_json", fmt.Errorf("line %q is not a JSON object", m.Data))
				bad.Add(1)
				continue
			}
			ok.Add(1)
		}
		return errs
	}))
	if err != nil {
		panic(err)
	}
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()

	p := pipeline.NewPublisher(js, 0)
	for i, line := range []string{`{"braze_id":"a"}`, `oops`, `{"braze_id":"b"}`} {
		_ = p.Publish(ctx, proto.SubjectRawBrazeUsers, fmt.Sprint("line-", i), nil, []byte(line))
	}
	if err := p.Flush(ctx); err != nil {
		panic(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ok.Load()+bad.Load() < 3 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	fmt.Println("run:", <-done)
	fmt.Println("handled:", ok.Load(), "dead-lettered:", bad.Load())
	// Output:
	// run: <nil>
	// handled: 2 dead-lettered: 1
}
