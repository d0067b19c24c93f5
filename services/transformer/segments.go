package transformer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/membership"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// SegmentsDurable is the consumer every transformer replica's segments
// worker shares.
const SegmentsDurable = proto.DurableTransformerSegments

// ReasonBadMember dead-letters a segment change whose member names no Brevo
// contact.
const ReasonBadMember = "bad_member"

// SegmentsConfig tunes the segments worker.
type SegmentsConfig struct {
	BatchSize   int           // default 500
	BatchWait   time.Duration // default 100ms
	Concurrency int           // default 1
	AckWait     time.Duration // the consumer's redelivery timeout (pipeline.Config.AckWait)
	Replicas    int           // of the segments ledger bucket, when it is created here
	Logger      *slog.Logger
}

// Segments turns segment changes (raw.braze.segments) into list changes
// (ops.brevo.lists.add and .remove), naming each member's contact by ext_id
// or email, and marks each change passed in the segments run's ledger.
type Segments struct {
	cfg SegmentsConfig
	js  jetstream.JetStream
	led *ledger.Ledger
	log *slog.Logger
}

// NewSegments builds the segments worker; the streams must be provisioned.
func NewSegments(ctx context.Context, js jetstream.JetStream, cfg SegmentsConfig) (*Segments, error) {
	if js == nil {
		return nil, errors.New("transformer segments: JetStream is required")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = 100 * time.Millisecond
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := membership.Provision(ctx, js, cfg.Replicas); err != nil {
		return nil, fmt.Errorf("transformer segments: %w", err)
	}
	led, err := ledger.Open(ctx, js, proto.BucketSegmentsLedger)
	if err != nil {
		return nil, fmt.Errorf("transformer segments: %w", err)
	}
	return &Segments{cfg: cfg, js: js, led: led, log: cfg.Logger.With("service", proto.StageTransformer, "worker", "segments")}, nil
}

// Run consumes segment changes until ctx is cancelled, then drains.
func (s *Segments) Run(ctx context.Context) error {
	w, err := pipeline.NewWorker(s.js, pipeline.Config{
		Stream:      proto.StreamRaw,
		Durable:     SegmentsDurable,
		Subject:     proto.SubjectRawBrazeSegments,
		Stage:       proto.StageTransformer,
		Concurrency: s.cfg.Concurrency,
		BatchSize:   s.cfg.BatchSize,
		BatchWait:   s.cfg.BatchWait,
		AckWait:     s.cfg.AckWait,
		Ledger:      s.led,
		Logger:      s.log,
	}, s)
	if err != nil {
		return fmt.Errorf("transformer segments: starting worker: %w", err)
	}
	return w.Run(ctx)
}

// ListChange is the list change a segment change asks for: the member's
// "x:<ext_id>" names the contact by ext_id, "e:<email>" by email.
func ListChange(c proto.SegmentChange) (proto.ListChange, error) {
	out := proto.ListChange{V: proto.SchemaVersion, RunID: c.RunID, SegmentID: c.SegmentID, ListID: c.ListID, Op: c.Op, BrazeID: c.BrazeID}
	if c.Op != proto.ListAdd && c.Op != proto.ListRemove {
		return out, fmt.Errorf("braze user %s: unknown list operation %q", c.BrazeID, c.Op)
	}
	if c.ListID <= 0 {
		return out, fmt.Errorf("braze user %s: list id %d is not positive", c.BrazeID, c.ListID)
	}
	kind, id, _ := strings.Cut(c.Member, ":")
	switch {
	case id == "":
		return out, fmt.Errorf("braze user %s: the member names no contact (%q)", c.BrazeID, kind)
	case kind == "x":
		out.ExtID = id
	case kind == "e" && strings.Contains(id, "@"):
		out.Email = id
	default:
		return out, fmt.Errorf("braze user %s: the member is neither an ext_id nor an email (kind %q)", c.BrazeID, kind)
	}
	return out, nil
}

// listSubject is where a list change goes.
func listSubject(op string) string {
	if op == proto.ListRemove {
		return proto.SubjectOpsBrevoListsRemove
	}
	return proto.SubjectOpsBrevoListsAdd
}

// HandleBatch publishes each change's list change, acknowledging the batch
// once the OPS stream stored them all.
func (s *Segments) HandleBatch(ctx context.Context, batch []*pipeline.Msg) []error {
	errs := make([]error, len(batch))
	pub := pipeline.NewPublisher(s.js, len(batch))
	published := make([]int, 0, len(batch))
	for i, m := range batch {
		var c proto.SegmentChange
		if err := proto.Decode(m.Data, &c); err != nil {
			errs[i] = pipeline.Permanent("bad_payload", err)
			continue
		}
		lc, err := ListChange(c)
		if err != nil {
			errs[i] = pipeline.Permanent(ReasonBadMember, err)
			continue
		}
		data, err := proto.Encode(&lc)
		if err != nil {
			errs[i] = pipeline.Permanent("encode_failed", err)
			continue
		}
		hdr := nats.Header{}
		carryHeaders(hdr, m.Header, proto.HeaderSchema, proto.HeaderRunID, proto.HeaderLine, proto.HeaderKey, "traceparent")
		id := proto.MsgID("ops.lists."+c.RunID, c.SegmentID+"/"+c.BrazeID, data)
		if err := pub.Publish(ctx, listSubject(lc.Op), id, hdr, data); err != nil {
			errs[i] = fmt.Errorf("publishing the list change of braze user %s: %w", c.BrazeID, err)
			continue
		}
		published = append(published, i)
	}
	settlePublished(ctx, pub, batch, published, errs, "list changes", nil)
	return errs
}
