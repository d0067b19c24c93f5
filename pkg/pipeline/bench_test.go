package pipeline_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

const (
	benchIn  = "raw.bench.in"
	benchOut = "ops.bench.out"
)

// BenchmarkTwoHop moves b.N messages RAW -> stage 1 (publishes each to OPS)
// -> stage 2, with the runtime and with bare JetStream consumers. The bare
// version acks before its publish is confirmed, so it is an upper bound.
// Run: go test ./pkg/pipeline -run '^$' -bench TwoHop -benchtime 20000x
func BenchmarkTwoHop(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		js := setup(b)
		preload(b, js)
		ctx := context.Background()
		c1 := benchConsumer(b, js, proto.StreamRaw, "bare1", benchIn)
		c2 := benchConsumer(b, js, proto.StreamOps, "bare2", benchOut)
		var done atomic.Int64
		b.ResetTimer()
		began := time.Now()
		cc1, err := c1.Consume(func(m jetstream.Msg) {
			out := &nats.Msg{Subject: benchOut, Data: m.Data(), Header: nats.Header{proto.HeaderMsgID: m.Headers()[proto.HeaderMsgID]}}
			if _, err := js.PublishMsgAsync(out); err != nil {
				b.Error(err)
			}
			_ = m.Ack()
		})
		if err != nil {
			b.Fatal(err)
		}
		defer cc1.Stop()
		cc2, err := c2.Consume(func(m jetstream.Msg) { _ = m.Ack(); done.Add(1) })
		if err != nil {
			b.Fatal(err)
		}
		defer cc2.Stop()
		waitCount(b, ctx, &done, int64(b.N))
		b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "msgs/s")
	})

	b.Run("pipeline", func(b *testing.B) {
		js := setup(b)
		preload(b, js)
		ctx := context.Background()
		var done atomic.Int64
		cfg1 := pipeline.Config{Stream: proto.StreamRaw, Subject: benchIn, Stage: "bench1", Concurrency: 2}
		w1, err := pipeline.NewWorker(js, cfg1, pipeline.HandlerFunc(func(ctx context.Context, batch []*pipeline.Msg) []error {
			p := pipeline.NewPublisher(js, 0)
			for _, m := range batch {
				if err := p.Publish(ctx, benchOut, m.Header.Get(proto.HeaderMsgID), nil, m.Data); err != nil {
					return pipeline.Errors(len(batch), err)
				}
			}
			if err := p.Flush(ctx); err != nil {
				return pipeline.Errors(len(batch), err)
			}
			return nil
		}))
		if err != nil {
			b.Fatal(err)
		}
		cfg2 := pipeline.Config{Stream: proto.StreamOps, Subject: benchOut, Stage: "bench2", Concurrency: 2}
		w2, err := pipeline.NewWorker(js, cfg2, pipeline.HandlerFunc(func(_ context.Context, batch []*pipeline.Msg) []error {
			done.Add(int64(len(batch)))
			return nil
		}))
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		began := time.Now()
		start(b, w1)
		start(b, w2)
		waitCount(b, ctx, &done, int64(b.N))
		b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "msgs/s")
	})
}

func preload(b *testing.B, js jetstream.JetStream) {
	b.Helper()
	ctx := context.Background()
	p := pipeline.NewPublisher(js, 0)
	data := make([]byte, 256)
	for i := range b.N {
		id := "bench-" + strconv.Itoa(i)
		if err := p.Publish(ctx, benchIn, id, nil, data); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}

func benchConsumer(b *testing.B, js jetstream.JetStream, stream, name, subject string) jetstream.Consumer {
	b.Helper()
	c, err := js.CreateOrUpdateConsumer(context.Background(), stream, jetstream.ConsumerConfig{
		Durable: name, FilterSubject: subject, AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1000})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func waitCount(b *testing.B, _ context.Context, n *atomic.Int64, want int64) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for n.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d messages arrived", n.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
}
