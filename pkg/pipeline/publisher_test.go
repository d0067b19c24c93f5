package pipeline_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

func TestPublisherDeduplicatesByMsgID(t *testing.T) {
	js := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := pipeline.NewPublisher(js, 0)
	hdr := nats.Header{"X-A": []string{"1"}}
	for range 3 {
		if err := p.Publish(ctx, "raw.test.dedup", "same-id", hdr, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Publish(ctx, "raw.test.dedup", "other-id", hdr, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(hdr) != 1 {
		t.Fatalf("Publish modified the caller's header: %v", hdr)
	}
	s, err := js.Stream(ctx, proto.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.CachedInfo().State.Msgs; n != 2 {
		t.Fatalf("stream holds %d messages, want 2 (one per msg id)", n)
	}
	m, err := s.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get(proto.HeaderMsgID) != "same-id" || m.Header.Get("X-A") != "1" {
		t.Fatalf("stored headers %v", m.Header)
	}
}

func TestPublisherFlushReportsFailureWithSubjectAndID(t *testing.T) {
	js := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := pipeline.NewPublisher(js, 0)
	if err := p.Publish(ctx, "raw.test.ok", "a", nil, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := p.Publish(ctx, "nostream.here", "b-id", nil, []byte("x")); err != nil {
		t.Fatal(err)
	}
	err := p.Flush(ctx)
	if err == nil || !strings.Contains(err.Error(), "nostream.here") || !strings.Contains(err.Error(), "b-id") {
		t.Fatalf("Flush = %v, want the failure naming subject and msg id", err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("second Flush reported an old failure again: %v", err)
	}
}

func TestPublisherBoundsPending(t *testing.T) {
	js := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const limit = 8
	p := pipeline.NewPublisher(js, limit)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				if err := p.Publish(ctx, "raw.test.bound", proto.MsgID("t", string(rune('a'+g)), []byte{byte(i), byte(i >> 8)}), nil, []byte("x")); err != nil {
					errs <- err
					return
				}
				if n := p.Pending(); n > limit {
					errs <- errors.New("more than maxPending publishes un-acked")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if p.Pending() != 0 {
		t.Fatalf("%d pending after Flush", p.Pending())
	}
	s, err := js.Stream(ctx, proto.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.CachedInfo().State.Msgs; n != 2000 {
		t.Fatalf("stream holds %d messages, want 2000", n)
	}
}

func TestPublisherBlocksWhenFullAndTimesOutAcks(t *testing.T) {
	js := setup(t)
	// A plain subscriber that never replies: the publish is never acked.
	sub, err := js.Conn().Subscribe("hang.x", func(*nats.Msg) {})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := js.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	p := pipeline.NewPublisher(js, 1)
	p.AckTimeout = 300 * time.Millisecond
	bg := context.Background()
	if err := p.Publish(bg, "hang.x", "1", nil, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	if err := p.Publish(ctx, "hang.x", "2", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("publish beyond maxPending = %v, want it to block until the context ends", err)
	}
	err = p.Flush(bg)
	if !errors.Is(err, jetstream.ErrAsyncPublishTimeout) || !strings.Contains(err.Error(), "hang.x") {
		t.Fatalf("Flush = %v, want an ack timeout naming the subject", err)
	}
	if p.Pending() != 0 {
		t.Fatalf("%d pending after a timed-out flush", p.Pending())
	}
}

func TestPublishDeadLetterFromExtractor(t *testing.T) {
	js := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hdr := nats.Header{proto.HeaderRunID: []string{"r9"}, proto.HeaderMsgID: []string{"braze:line:7"}}
	for range 2 { // a retry stores it once
		if err := pipeline.PublishDeadLetter(ctx, js, proto.StageExtractor, "malformed_json", "unexpected EOF",
			proto.SubjectRawBrazeUsers, hdr, []byte("{oops"), 1); err != nil {
			t.Fatal(err)
		}
	}
	dls := deadLetters(t, js)
	if len(dls) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dls))
	}
	if dl := dls[0]; dl.Stage != "extractor" || dl.Reason != "malformed_json" || dl.RunID != "r9" ||
		string(dl.Data) != "{oops" || dl.OriginalSubject != proto.SubjectRawBrazeUsers {
		t.Fatalf("dead letter %+v", dl)
	}
}
