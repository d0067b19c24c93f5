package dlq_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// letter is a dead letter to publish in a test.
type letter struct {
	stage, reason, subject string
	data                   string
}

// start returns a provisioned embedded server's JetStream and a context
// bounded for the test.
func start(t *testing.T) (context.Context, jetstream.JetStream) {
	t.Helper()
	_, _, js := natsxtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx, js
}

// publish dead-letters ls in order, the way the extractor does.
func publish(t *testing.T, ctx context.Context, js jetstream.JetStream, ls ...letter) {
	t.Helper()
	for i, l := range ls {
		hdr := nats.Header{}
		hdr.Set(proto.HeaderRunID, "run-1")
		hdr.Set("X-Test", fmt.Sprint(i))
		subject := l.subject
		if subject == "" {
			subject = proto.SubjectRawBrazeUsers
		}
		if err := pipeline.PublishDeadLetter(ctx, js, l.stage, l.reason, "detail of "+l.data, subject, hdr, []byte(l.data), 1); err != nil {
			t.Fatalf("publishing dead letter %d: %v", i, err)
		}
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
