package transformer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/catalogmap"
	"github.com/tajo-sync/tajo/pkg/catalogstate"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// CatalogsConfig tunes the catalog worker.
type CatalogsConfig struct {
	// Mapping says which item field becomes which product field
	// (connectors.braze.sync.catalogs.mapping).
	Mapping     catalogmap.Config
	BatchSize   int           // default 200
	BatchWait   time.Duration // default 100ms
	Concurrency int           // default 1
	// AckWait and Backoff tune redeliveries (pipeline.Config).
	AckWait time.Duration
	Backoff pipeline.Backoff
	Logger  *slog.Logger
}

// Catalogs maps catalog items (raw.braze.catalog) to product writes
// (ops.brevo.products), passing on only those whose product differs from
// what was last written.
type Catalogs struct {
	cfg    CatalogsConfig
	js     jetstream.JetStream
	mapper *catalogmap.Mapper
	items  *catalogstate.Store
	ledger *ledger.Ledger
	log    *slog.Logger
}

// NewCatalogs builds the catalog worker; the streams and buckets must be
// provisioned.
func NewCatalogs(ctx context.Context, js jetstream.JetStream, cfg CatalogsConfig) (*Catalogs, error) {
	if js == nil {
		return nil, errors.New("transformer catalogs: JetStream is required")
	}
	m, err := catalogmap.New(cfg.Mapping)
	if err != nil {
		return nil, fmt.Errorf("transformer catalogs: %w", err)
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 200
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
	items, led, err := catalogstate.OpenWithLedger(ctx, js)
	if err != nil {
		return nil, fmt.Errorf("transformer catalogs: %w", err)
	}
	return &Catalogs{cfg: cfg, js: js, mapper: m, items: items, ledger: led,
		log: cfg.Logger.With("service", proto.StageTransformer, "worker", "catalogs")}, nil
}

// Run consumes catalog items until ctx is cancelled, then drains.
func (c *Catalogs) Run(ctx context.Context) error {
	w, err := pipeline.NewWorker(c.js, pipeline.Config{
		Stream:      proto.StreamRaw,
		Durable:     proto.DurableCatalogTransformer,
		Subject:     proto.SubjectRawBrazeCatalog,
		Stage:       proto.StageTransformer,
		Concurrency: c.cfg.Concurrency,
		BatchSize:   c.cfg.BatchSize,
		BatchWait:   c.cfg.BatchWait,
		AckWait:     c.cfg.AckWait,
		Backoff:     c.cfg.Backoff,
		Ledger:      c.ledger,
		Logger:      c.log,
	}, c)
	if err != nil {
		return fmt.Errorf("transformer catalogs: starting worker: %w", err)
	}
	return w.Run(ctx)
}

// HandleBatch maps the batch's items, compares each product with what was
// last written for its item, and publishes the changed ones; each message
// is settled passed or unchanged for the run's ledger. An item that
// cannot be a product is dead-lettered with the mapping's reason.
func (c *Catalogs) HandleBatch(ctx context.Context, batch []*pipeline.Msg) []error {
	errs := make([]error, len(batch))
	ops := make([]*proto.ProductOp, len(batch))
	byCatalog := map[string][]string{}
	for i, m := range batch {
		var raw proto.RawCatalogItem
		if err := proto.Decode(m.Data, &raw); err != nil {
			errs[i] = pipeline.Permanent("bad_payload", err)
			continue
		}
		op := &proto.ProductOp{V: proto.SchemaVersion, RunID: raw.RunID, Catalog: raw.Catalog, Version: raw.Version}
		if raw.Deleted {
			name := raw.Name
			if name == "" {
				name = raw.ItemID // Brevo wants a name on every write
			}
			op.Product = proto.Product{ID: raw.ItemID, Name: name, Deleted: true}
		} else {
			p, err := c.mapper.Map(raw.ItemID, raw.Item)
			if err != nil {
				var re *catalogmap.RecordError
				if errors.As(err, &re) {
					errs[i] = pipeline.Permanent(re.Reason, fmt.Errorf("catalog %s: %w", raw.Catalog, err))
				} else {
					errs[i] = pipeline.Permanent("mapping_failed", fmt.Errorf("catalog %s item %s: %w", raw.Catalog, raw.ItemID, err))
				}
				continue
			}
			op.Product = p
		}
		op.Fingerprint = catalogmap.Fingerprint(op.Product)
		ops[i] = op
		byCatalog[op.Catalog] = append(byCatalog[op.Catalog], op.Product.ID)
	}
	known := map[string]map[string]catalogstate.Entry{}
	for cat, ids := range byCatalog {
		got, err := c.items.Get(ctx, cat, ids)
		if err != nil {
			for i, op := range ops {
				if op != nil && op.Catalog == cat {
					errs[i] = fmt.Errorf("transformer catalogs: %w", err)
				}
			}
			continue
		}
		known[cat] = got
	}

	pub := pipeline.NewPublisher(c.js, len(batch))
	published := make([]int, 0, len(batch))
	for i, op := range ops {
		if op == nil || errs[i] != nil {
			continue
		}
		cur, ok := known[op.Catalog][op.Product.ID]
		if unchanged(op, cur, ok) {
			batch[i].Settle(ledger.Unchanged, 0)
			continue
		}
		data, err := proto.Encode(op)
		if err != nil {
			errs[i] = pipeline.Permanent("encode_failed", err)
			continue
		}
		hdr := nats.Header{}
		hdr.Set(proto.HeaderSchema, "1")
		hdr.Set(proto.HeaderRunID, op.RunID)
		hdr.Set(proto.HeaderSourceVersion, fmt.Sprint(op.Version))
		carryHeaders(hdr, batch[i].Header, proto.HeaderLine, "traceparent")
		id := proto.MsgID("ops.products."+op.RunID, op.Catalog+"/"+op.Product.ID, []byte(op.Fingerprint))
		if err := pub.Publish(ctx, proto.SubjectOpsBrevoProducts, id, hdr, data); err != nil {
			errs[i] = fmt.Errorf("publishing product %s: %w", op.Product.ID, err)
			continue
		}
		published = append(published, i)
	}
	settlePublished(ctx, pub, batch, published, errs, "products", nil)
	return errs
}

// unchanged reports whether op would write nothing new: the product was
// written with this content (or, for a deletion, is deleted already or was
// never written).
func unchanged(op *proto.ProductOp, cur catalogstate.Entry, known bool) bool {
	if op.Product.Deleted {
		return !known || cur.Deleted
	}
	return known && !cur.Deleted && cur.Fingerprint == op.Fingerprint
}
