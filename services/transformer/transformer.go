package transformer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// Durable is the consumer every transformer replica shares.
const Durable = proto.DurableTransformerUsers

// Config tunes the transformer.
type Config struct {
	Instance    string        // names this replica in counters; default "transformer"
	BatchSize   int           // raw users per batch; default 500
	BatchWait   time.Duration // default 200ms
	Concurrency int           // batches at once; default 2
	Logger      *slog.Logger
	// Instruments trace and measure the transformer's worker (pkg/pipeline):
	// the upserts it publishes carry on the trace of the raw user.
	Instruments pipeline.Instruments
	// Backlog bounds the upserts published and not yet taken by the loader
	// (pipeline.Backlog): past it, a batch waits for the loader to catch up
	// before it publishes. Default: one loader batch (DefaultBacklog);
	// negative: no bound.
	Backlog int
	// TwoWay, when set, reconciles the fields synced both ways before the
	// users are compared with what Brevo was sent (twoway.Syncer).
	TwoWay Reconciler
}

// Reconciler reconciles a batch of mapped users' two-way fields with what
// Brevo changed (pkg/twoway.Syncer): it may give a field Brevo's value,
// and reports the users Brevo holds as mapped already (skip).
type Reconciler interface {
	Forward(ctx context.Context, contacts []*mapping.Contact, exportedAt []int64) (skip []bool, err error)
}

// Transformer maps raw users to contact upserts.
type Transformer struct {
	cfg    Config
	js     jetstream.JetStream
	mapper *mapping.Mapper
	ledger *ledger.Ledger
	state  *state.Store // the runs' records (caughtUp)
	log    *slog.Logger
	// backlog holds publishing back while the loader is behind.
	backlog *pipeline.Backlog
}

// DefaultBacklog is the upserts the transformer lets wait for the loader
// beyond those the loader holds: one loader batch (pipeline.batch_size's
// default), so the next import is always ready.
const DefaultBacklog = config.DefaultBatchSize

// New builds a transformer; the streams and buckets must be provisioned.
func New(ctx context.Context, js jetstream.JetStream, m *mapping.Mapper, cfg Config) (*Transformer, error) {
	if m == nil {
		return nil, errors.New("transformer: a mapper is required")
	}
	if cfg.Instance == "" {
		cfg.Instance = "transformer"
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = 200 * time.Millisecond
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = config.DefaultConcurrency
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Backlog == 0 {
		cfg.Backlog = DefaultBacklog
	}
	led, err := ledger.Open(ctx, js, proto.BucketLedger)
	if err != nil {
		return nil, fmt.Errorf("transformer: %w", err)
	}
	st, err := state.NewStore(ctx, js)
	if err != nil {
		return nil, fmt.Errorf("transformer: %w", err)
	}
	log := cfg.Logger.With("service", proto.StageTransformer, "instance", cfg.Instance)
	return &Transformer{
		cfg: cfg, js: js, mapper: m, ledger: led, state: st, log: log,
		backlog: pipeline.NewBacklog(js, proto.StreamOps, proto.DurableLoaderContacts, pipeline.Packs(cfg.Backlog), log),
	}, nil
}

// Run consumes raw users until ctx is cancelled, then drains in-flight batches.
func (t *Transformer) Run(ctx context.Context) error {
	w, err := pipeline.NewWorker(t.js, pipeline.Config{
		Stream:      proto.StreamRaw,
		Durable:     Durable,
		Subject:     proto.SubjectRawBrazeUsers,
		PackItems:   pipeline.DefaultPackItems, // the extractor packs its lines
		Stage:       proto.StageTransformer,
		Concurrency: t.cfg.Concurrency,
		Ledger:      t.ledger,
		BatchSize:   t.cfg.BatchSize,
		BatchBytes:  8 << 20,
		BatchWait:   t.cfg.BatchWait,
		CaughtUp:    t.caughtUp, // a sync's last batch goes once it has its lines
		Logger:      t.log,
		Instruments: t.cfg.Instruments,
	}, t)
	if err != nil {
		return fmt.Errorf("transformer: starting worker: %w", err)
	}
	t.log.Info("transformer started", "subject", proto.SubjectRawBrazeUsers)
	return w.Run(ctx)
}

// caughtUp says whether anything more is on its way to the transformers
// for the given runs (pipeline.Config.CaughtUp, state.Store.CaughtUp):
// nothing is once the runs were exported whole and RAW has nothing left
// to deliver. What it cannot tell is a no: the batch waits batch_wait.
func (t *Transformer) caughtUp(ctx context.Context, runs []string) bool {
	ok, err := t.state.CaughtUp(ctx, t.js, runs, state.Consumer{Stream: proto.StreamRaw, Durable: Durable})
	return err == nil && ok
}

// mapped is one raw message's mapping result.
type mapped struct {
	raw     proto.RawUser
	contact mapping.Contact
	fp      string
}

// HandleBatch maps every raw user of the batch, publishes the upserts and
// waits for the server to store them before reporting success. Whether an
// upsert changes anything is the loader's to decide (it alone reads what
// was applied); what the mapping left off travels in the upsert, for the
// loader to record once it writes the contact. Each message's outcome
// (passed on; unchanged, for a Brevo change come back) is settled for the
// run's ledger; the worker dead-letters what cannot be mapped.
func (t *Transformer) HandleBatch(ctx context.Context, batch []*pipeline.Msg) []error {
	errs := make([]error, len(batch))
	items := make([]*mapped, len(batch))

	for i, m := range batch {
		it := &mapped{}
		if err := proto.Decode(m.Data, &it.raw); err != nil {
			errs[i] = pipeline.Permanent("bad_payload", err)
			continue
		}
		c, err := t.mapper.Map(it.raw.Line)
		if err != nil {
			var re *mapping.RecordError
			if errors.As(err, &re) {
				errs[i] = pipeline.Permanent(re.Reason, fmt.Errorf("mapping braze user %s: %w", it.raw.BrazeID, err))
			} else {
				errs[i] = pipeline.Permanent("mapping_failed", fmt.Errorf("mapping braze user %s: %w", it.raw.BrazeID, err))
			}
			continue
		}
		it.contact = c
		items[i] = it
	}
	inBrevo, err := t.reconcile(ctx, items)
	if err != nil {
		for i := range errs {
			if items[i] != nil {
				errs[i] = fmt.Errorf("transformer: %w", err)
			}
		}
		return errs
	}
	for i, it := range items {
		if it == nil {
			continue
		}
		if inBrevo[i] {
			// A Brevo change that came back from Braze: Brevo holds this.
			batch[i].Settle(ledger.Unchanged, 0)
			items[i] = nil
			continue
		}
		it.fp = it.contact.Fingerprint()
	}

	// The loader behind: wait for it rather than pile the upserts up in OPS.
	if err := t.backlog.Wait(ctx); err != nil {
		return pipeline.Errors(len(batch), err)
	}
	// One publisher per batch: its Flush reports exactly this batch's failures.
	pub := pipeline.NewPublisher(t.js, len(batch)).Packing(pipeline.DefaultPackItems)
	published := make([]int, 0, len(batch))
	for i, it := range items {
		if it == nil || errs[i] != nil {
			continue
		}
		up := &proto.ContactUpsert{
			V: proto.SchemaVersion, RunID: it.raw.RunID,
			Key: it.contact.Key, BrazeID: it.contact.BrazeID, ExtID: it.contact.ExtID, Email: it.contact.Email,
			Attributes: it.contact.Attributes, SourceVersion: it.raw.ExportedAt, Fingerprint: it.fp,
		}
		for _, lo := range it.contact.LeftOff {
			up.LeftOff = append(up.LeftOff, proto.LeftOff{Reason: lo.Reason, Detail: fmt.Sprintf("braze user %s: %s", it.raw.BrazeID, lo.Detail)})
		}
		data, err := proto.Encode(up)
		if err != nil {
			errs[i] = pipeline.Permanent("encode_failed", err)
			continue
		}
		hdr := nats.Header{}
		hdr.Set(proto.HeaderSchema, "1")
		hdr.Set(proto.HeaderRunID, it.raw.RunID)
		hdr.Set(proto.HeaderKey, proto.KeyHash(it.contact.Key))
		hdr.Set(proto.HeaderSourceVersion, fmt.Sprint(it.raw.ExportedAt))
		carryHeaders(hdr, batch[i].Header, proto.HeaderLine, "traceparent")
		id := proto.MsgID("ops.contacts."+it.raw.RunID, it.contact.Key, []byte(it.fp))
		if err := pub.Publish(ctx, proto.SubjectOpsBrevoContactsUpsert, id, hdr, data); err != nil {
			errs[i] = fmt.Errorf("publishing upsert of %s: %w", it.contact.Key, err)
			continue
		}
		published = append(published, i)
	}
	settlePublished(ctx, pub, batch, published, errs, "upserts", nil)
	return errs
}

// reconcile hands the batch's users to the two-way reconciler, if any, and
// returns, by batch index, the users Brevo holds as mapped already.
func (t *Transformer) reconcile(ctx context.Context, items []*mapped) ([]bool, error) {
	inBrevo := make([]bool, len(items))
	if t.cfg.TwoWay == nil {
		return inBrevo, nil
	}
	cs := make([]*mapping.Contact, 0, len(items))
	at := make([]int64, 0, len(items))
	idx := make([]int, 0, len(items))
	for i, it := range items {
		if it != nil {
			cs = append(cs, &it.contact)
			at = append(at, it.raw.ExportedAt)
			idx = append(idx, i)
		}
	}
	skip, err := t.cfg.TwoWay.Forward(ctx, cs, at)
	if err != nil {
		return nil, err
	}
	for k, i := range idx {
		inBrevo[i] = skip[k]
	}
	return inBrevo, nil
}
