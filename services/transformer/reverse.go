package transformer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/twoway"
	"github.com/tajo-sync/tajo/proto"
)

// ReverseDurable is the consumer every transformer replica's reverse
// worker shares.
const ReverseDurable = "transformer-brevo"

// ReasonDeletedInBrevo is the DLQ reason of the report of a contact
// deleted in Brevo (a side letter: nothing is held back).
const ReasonDeletedInBrevo = "deleted_in_brevo"

// ReverseConfig tunes the reverse worker.
type ReverseConfig struct {
	BatchSize int           // default 200
	BatchWait time.Duration // default 100ms
	// AckWait is the redelivery timeout of a message whose handling died
	// (pipeline.Config.AckWait); default 30s.
	AckWait time.Duration
	// DrainTimeout bounds the wait for batches in flight once stopped
	// (pipeline.Config.DrainTimeout); default 30s.
	DrainTimeout time.Duration
	Logger       *slog.Logger
}

// Reverse turns what Brevo tells (raw.brevo.contacts from the poller,
// raw.brevo.webhooks from the gateway) into writes to Braze
// (ops.braze.*), through a twoway.Syncer that decides what changed.
type Reverse struct {
	cfg ReverseConfig
	js  jetstream.JetStream
	s   *twoway.Syncer
	log *slog.Logger

	mu    sync.Mutex
	stats map[string]int
}

// NewReverse builds the reverse worker; the streams and buckets must be
// provisioned.
func NewReverse(js jetstream.JetStream, s *twoway.Syncer, cfg ReverseConfig) (*Reverse, error) {
	if js == nil || s == nil {
		return nil, errors.New("transformer reverse: JetStream and a two-way syncer are required")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 200
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = 100 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Reverse{cfg: cfg, js: js, s: s, stats: map[string]int{},
		log: cfg.Logger.With("service", proto.StageTransformer, "worker", "reverse")}, nil
}

// Run consumes until ctx is cancelled, then drains.
func (r *Reverse) Run(ctx context.Context) error {
	w, err := pipeline.NewWorker(r.js, pipeline.Config{
		Stream:       proto.StreamRaw,
		Durable:      ReverseDurable,
		Subject:      proto.SubjectsRawBrevo,
		Stage:        proto.StageTransformer,
		BatchSize:    r.cfg.BatchSize,
		BatchWait:    r.cfg.BatchWait,
		AckWait:      r.cfg.AckWait,
		DrainTimeout: r.cfg.DrainTimeout,
		Logger:       r.log,
	}, r)
	if err != nil {
		return fmt.Errorf("transformer reverse: starting worker: %w", err)
	}
	return w.Run(ctx)
}

// Stats counts the items handled by outcome (twoway.Outcome*), for
// status and tests.
func (r *Reverse) Stats() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.stats))
	for k, v := range r.stats {
		out[k] = v
	}
	return out
}

// HandleBatch decides the batch in one go: the syncer publishes the writes
// and records what it decided before any message is acknowledged.
func (r *Reverse) HandleBatch(ctx context.Context, batch []*pipeline.Msg) []error {
	errs := make([]error, len(batch))
	items := make([]twoway.Item, 0, len(batch))
	idx := make([]int, 0, len(batch))
	for i, m := range batch {
		var it twoway.Item
		switch m.Subject {
		case proto.SubjectRawBrevoContacts:
			var rc proto.RawContact
			if err := proto.Decode(m.Data, &rc); err != nil {
				errs[i] = pipeline.Permanent("bad_payload", err)
				continue
			}
			it.Contact = rc.JSON
		case proto.SubjectRawBrevoWebhooks:
			var ev proto.RawEvent
			if err := proto.Decode(m.Data, &ev); err != nil {
				errs[i] = pipeline.Permanent("bad_payload", err)
				continue
			}
			it.Webhook, it.Received = ev.JSON, ev.ReceivedAt
		default:
			errs[i] = pipeline.Permanent("unknown_subject", fmt.Errorf("no reverse handling for %s", m.Subject))
			continue
		}
		items = append(items, it)
		idx = append(idx, i)
	}
	results, err := r.s.Reverse(ctx, items)
	if err != nil {
		for _, i := range idx {
			errs[i] = err
		}
		return errs
	}
	deletes := r.s.Policy().Options().PropagateDeletes
	r.mu.Lock()
	for _, res := range results {
		r.stats[res.Outcome]++
	}
	r.mu.Unlock()
	for k, res := range results {
		i := idx[k]
		if res.Err != nil {
			errs[i] = pipeline.Permanent("bad_brevo_record", res.Err)
			continue
		}
		for _, w := range res.Warnings {
			r.log.Warn("a Brevo value was not synced to Braze", "key", proto.KeyHash(res.Key), "warning", w)
		}
		if res.Outcome == twoway.OutcomeDeleted {
			detail := "contact deleted in Brevo; propagate_deletes is off: its Braze user is kept"
			if deletes {
				detail = "contact deleted in Brevo; propagate_deletes is on: its Braze user is deleted"
			}
			if err := pipeline.PublishSideLetter(ctx, r.js, proto.StageTransformer, ReasonDeletedInBrevo, detail,
				batch[i], "", res.Key, ""); err != nil {
				errs[i] = fmt.Errorf("reporting a contact deleted in Brevo: %w", err)
			}
		}
	}
	return errs
}
