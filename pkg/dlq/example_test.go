package dlq_test

import (
	"context"
	"fmt"
	"os"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/dlq"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// A line the transformer dead-lettered, counted and then sent back to
// raw.braze.users once the mapping is fixed.
func ExampleReplayFilter() {
	dir, _ := os.MkdirTemp("", "tajo-dlq-example")
	defer os.RemoveAll(dir)
	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: dir})
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown()
	ctx := context.Background()
	nc, err := natsx.Connect(ctx, srv.ClientURL(), "example")
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{}); err != nil {
		panic(err)
	}
	if err := pipeline.PublishDeadLetter(ctx, js, proto.StageTransformer, "invalid_date", "dob is not a date",
		proto.SubjectRawBrazeUsers, nil, []byte(`{"braze_id":"b1","dob":"31/02/1990"}`), 1); err != nil {
		panic(err)
	}

	counts, _ := dlq.Counts(ctx, js)
	fmt.Println("dead letters:", counts)
	rep, err := dlq.ReplayFilter(ctx, js, dlq.Filter{Stage: proto.StageTransformer})
	if err != nil {
		panic(err)
	}
	fmt.Println("replayed:", rep.Replayed)
	raw, _ := js.Stream(ctx, proto.StreamRaw)
	m, _ := raw.GetLastMsgForSubject(ctx, proto.SubjectRawBrazeUsers)
	fmt.Println("attempt:", m.Header.Get(dlq.HeaderReplayAttempt))
	counts, _ = dlq.Counts(ctx, js)
	fmt.Println("dead letters:", counts)
	// Output:
	// dead letters: map[transformer:map[invalid_date:1]]
	// replayed: map[raw.braze.users:1]
	// attempt: 1
	// dead letters: map[]
}
