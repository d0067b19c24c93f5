package transformer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// With the loader behind, the transformer stops publishing upserts once
// what waits for the loader passes its backlog: the raw users it has not
// mapped stay in RAW (acknowledged only once published), not in OPS. As
// the loader takes upserts, every user is mapped and passed on.
func TestTransformerWaitsForTheLoader(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, _, js := natsxtest.Start(t)
	const users, backlog, batch = 3000, 400, 100

	pub := pipeline.NewPublisher(js, 0).Packing(0) // as the extractor does
	for i := range users {
		line := fmt.Appendf(nil, `{"braze_id":"b%05d","external_id":"u%05d","first_name":"F%d"}`, i, i, i)
		data, err := proto.Encode(&proto.RawUser{V: proto.SchemaVersion, RunID: "run-1", BrazeID: fmt.Sprintf("b%05d", i), ExportedAt: 1, Line: line})
		if err != nil {
			t.Fatal(err)
		}
		hdr := nats.Header{}
		hdr.Set(proto.HeaderRunID, "run-1")
		hdr.Set(proto.HeaderLine, strconv.Itoa(i))
		if err := pub.Publish(ctx, proto.SubjectRawBrazeUsers, fmt.Sprintf("raw-%d", i), hdr, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	loader := natsxtest.Durable(t, js, proto.StreamOps, proto.DurableLoaderContacts, proto.SubjectOpsBrevoContactsUpsert)

	m, err := mapping.New(mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := New(ctx, js, m, Config{BatchSize: batch, Backlog: backlog, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- tr.Run(rctx) }()
	defer func() { stop(); <-stopped }()

	// Upserts go in packs: the bound is on packs, a pack holding at most
	// DefaultPackItems upserts. Each of the (default two) handlers may
	// publish one batch past the bound before it sees it.
	natsxtest.SettledPending(t, ctx, loader)
	n, _ := natsxtest.StreamItems(t, ctx, js, proto.StreamOps, proto.SubjectOpsBrevoContactsUpsert, 0)
	if last, limit := uint64(n), uint64(pipeline.Packs(backlog)*pipeline.DefaultPackItems+2*batch); last > limit || last >= users {
		t.Fatalf("%d upserts wait in OPS with nobody taking them, want at most %d", last, limit)
	}

	natsxtest.Take(t, ctx, loader, users)
}
