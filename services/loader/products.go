package loader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/catalogstate"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// ProductsBrevo is what the products worker needs from a Brevo client.
type ProductsBrevo interface {
	UpsertProducts(ctx context.Context, products []brevo.Product) (brevo.BatchResult, error)
	UpsertCategories(ctx context.Context, cats []brevo.Category) (brevo.BatchResult, error)
}

var _ ProductsBrevo = (*brevo.Client)(nil)

// ReasonProductRefused is the dead-letter reason of a product Brevo
// refused on its own.
const ReasonProductRefused = "product_refused"

// ProductsConfig tunes the products worker.
type ProductsConfig struct {
	// BatchSize is products per POST /products/batch, at most 100
	// (brevo.MaxBatchProducts); default 100.
	BatchSize   int
	BatchWait   time.Duration // default 500ms
	Concurrency int           // default 1
	// AckWait and Backoff tune redeliveries (pipeline.Config): how long
	// an unacknowledged product waits before another loader takes it, and
	// how retryable failures are spaced.
	AckWait time.Duration
	Backoff pipeline.Backoff
	Paused  func() bool
	Logger  *slog.Logger
}

// Products writes product operations (ops.brevo.products) to Brevo with
// POST /products/batch, creating the categories they name first, and
// records what it wrote per item (pkg/catalogstate) once Brevo confirmed.
type Products struct {
	cfg    ProductsConfig
	js     jetstream.JetStream
	bv     ProductsBrevo
	items  *catalogstate.Store
	ledger *ledger.Ledger
	log    *slog.Logger

	mu   sync.Mutex
	cats map[string]string // categories known written: id -> name
}

// NewProducts builds the products worker; the streams and buckets must be
// provisioned.
func NewProducts(ctx context.Context, js jetstream.JetStream, bv ProductsBrevo, cfg ProductsConfig) (*Products, error) {
	if js == nil || bv == nil {
		return nil, errors.New("loader products: JetStream and a Brevo client are required")
	}
	if cfg.BatchSize <= 0 || cfg.BatchSize > brevo.MaxBatchProducts {
		cfg.BatchSize = brevo.MaxBatchProducts
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = 500 * time.Millisecond
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	items, led, err := catalogstate.OpenWithLedger(ctx, js)
	if err != nil {
		return nil, fmt.Errorf("loader products: %w", err)
	}
	return &Products{cfg: cfg, js: js, bv: bv, items: items, ledger: led,
		log: cfg.Logger.With("service", proto.StageLoader, "worker", "products")}, nil
}

// Run writes products until ctx is cancelled, then drains.
func (p *Products) Run(ctx context.Context) error {
	w, err := pipeline.NewWorker(p.js, pipeline.Config{
		Stream:      proto.StreamOps,
		Durable:     proto.DurableProductLoader,
		Subject:     proto.SubjectOpsBrevoProducts,
		Stage:       proto.StageLoader,
		Concurrency: p.cfg.Concurrency,
		BatchSize:   p.cfg.BatchSize,
		BatchWait:   p.cfg.BatchWait,
		AckWait:     p.cfg.AckWait,
		Backoff:     p.cfg.Backoff,
		Paused:      p.cfg.Paused,
		Ledger:      p.ledger,
		Logger:      p.log,
	}, p)
	if err != nil {
		return fmt.Errorf("loader products: starting worker: %w", err)
	}
	return w.Run(ctx)
}

// pendingProduct is one message of a batch on its way to Brevo.
type pendingProduct struct {
	i  int
	op proto.ProductOp
}

// HandleBatch writes the batch. Of several operations on one product, the
// newest is written and the others settle merged; an operation older than
// what Brevo holds settles stale; one Brevo holds already (a redelivery
// after the write) settles as it did then.
func (p *Products) HandleBatch(ctx context.Context, batch []*pipeline.Msg) []error {
	errs := make([]error, len(batch))
	newest := map[string]*pendingProduct{} // catalog/id -> op
	var order []string
	for i, m := range batch {
		var op proto.ProductOp
		if err := proto.Decode(m.Data, &op); err != nil {
			errs[i] = pipeline.Permanent("bad_payload", err)
			continue
		}
		k := op.Catalog + "/" + op.Product.ID
		cur, ok := newest[k]
		switch {
		case !ok:
			order = append(order, k)
		case cur.op.Version > op.Version:
			batch[i].Settle(ledger.Merged, 0)
			continue
		default:
			batch[cur.i].Settle(ledger.Merged, 0)
		}
		newest[k] = &pendingProduct{i, op}
	}
	// One product id in two catalogs is one Brevo product: write the
	// newest, merge the other (Brevo refuses an id twice in a payload).
	byID := map[string]*pendingProduct{}
	var todo []*pendingProduct
	for _, k := range order {
		pp := newest[k]
		if prev, ok := byID[pp.op.Product.ID]; ok {
			if prev.op.Version > pp.op.Version {
				batch[pp.i].Settle(ledger.Merged, 0)
				continue
			}
			batch[prev.i].Settle(ledger.Merged, 0)
			todo = slices.DeleteFunc(todo, func(x *pendingProduct) bool { return x == prev })
		}
		byID[pp.op.Product.ID] = pp
		todo = append(todo, pp)
	}

	byCatalog := map[string][]*pendingProduct{}
	for _, pp := range todo {
		byCatalog[pp.op.Catalog] = append(byCatalog[pp.op.Catalog], pp)
	}
	known := map[string]map[string]catalogstate.Entry{}
	for cat, pps := range byCatalog {
		ids := make([]string, len(pps))
		for k, pp := range pps {
			ids[k] = pp.op.Product.ID
		}
		got, err := p.items.Get(ctx, cat, ids)
		if err != nil {
			for _, pp := range pps {
				errs[pp.i] = fmt.Errorf("loader products: %w", err)
			}
			delete(byCatalog, cat)
			continue
		}
		known[cat] = got
	}
	var write []*pendingProduct
	bump := map[string][]*pendingProduct{}
	for _, cat := range slices.Sorted(maps.Keys(byCatalog)) {
		for _, pp := range byCatalog[cat] {
			cur, ok := known[cat][pp.op.Product.ID]
			same := ok && cur.Fingerprint == pp.op.Fingerprint && cur.Deleted == pp.op.Product.Deleted
			switch {
			case ok && cur.Version > pp.op.Version:
				batch[pp.i].Settle(ledger.Stale, 0)
			case same && cur.Version == pp.op.Version:
				// Written already by this very operation: settle it as then.
				o, f := ledger.Unpack(cur.Outcome)
				if cur.Run != proto.RunTag(pp.op.RunID) || o < ledger.Unchanged {
					o, f = ledger.Unchanged, 0
				}
				batch[pp.i].Settle(o, f)
			case same:
				// Brevo holds this content already (an older operation with
				// it was written after this one was compared): only the
				// version moves on.
				bump[cat] = append(bump[cat], pp)
			default:
				write = append(write, pp)
			}
		}
	}
	p.bump(ctx, batch, bump, errs)
	if len(write) == 0 {
		return errs
	}
	if err := p.writeCategories(ctx, write); err != nil {
		for _, pp := range write {
			errs[pp.i] = productFate(err)
		}
		return errs
	}
	p.write(ctx, batch, write, known, errs)
	return errs
}

// bump records newer versions of products whose content Brevo holds
// already, and settles them unchanged.
func (p *Products) bump(ctx context.Context, batch []*pipeline.Msg, bump map[string][]*pendingProduct, errs []error) {
	for cat, pps := range bump {
		ops := make(map[string]*pendingProduct, len(pps))
		ids := make([]string, len(pps))
		for k, pp := range pps {
			ops[pp.op.Product.ID], ids[k] = pp, pp.op.Product.ID
		}
		err := p.items.Modify(ctx, cat, ids, func(id string, cur catalogstate.Entry, ok bool) (catalogstate.Entry, bool) {
			pp := ops[id]
			if !ok || cur.Version >= pp.op.Version || cur.Fingerprint != pp.op.Fingerprint || cur.Deleted != pp.op.Product.Deleted {
				return cur, false
			}
			cur.Version = pp.op.Version
			return cur, true
		})
		for _, pp := range pps {
			if err != nil {
				errs[pp.i] = fmt.Errorf("recording product versions: %w", err)
				continue
			}
			batch[pp.i].Settle(ledger.Unchanged, 0)
		}
	}
}

// writeCategories creates the categories the products name that were not
// written before (categories change rarely: they are remembered).
func (p *Products) writeCategories(ctx context.Context, write []*pendingProduct) error {
	p.mu.Lock()
	if p.cats == nil {
		p.mu.Unlock()
		cats, err := p.items.Categories(ctx)
		if err != nil {
			return err
		}
		p.mu.Lock()
		p.cats = cats
	}
	missing := map[string]string{}
	for _, pp := range write {
		for _, c := range pp.op.Product.Categories {
			if _, ok := p.cats[c]; !ok {
				missing[c] = c
			}
		}
	}
	p.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(missing))
	for start := 0; start < len(ids); start += brevo.MaxBatchProducts {
		chunk := ids[start:min(start+brevo.MaxBatchProducts, len(ids))]
		cats := make([]brevo.Category, len(chunk))
		for k, id := range chunk {
			cats[k] = brevo.Category{ID: id, Name: missing[id]}
		}
		if _, err := p.bv.UpsertCategories(ctx, cats); err != nil {
			return fmt.Errorf("creating %d categories: %w", len(cats), err)
		}
	}
	if err := p.items.AddCategories(ctx, missing); err != nil {
		return err
	}
	p.mu.Lock()
	maps.Copy(p.cats, missing)
	p.mu.Unlock()
	return nil
}

// write sends the products, bisecting a batch Brevo refuses for good until
// the products at fault are found; the others are written. What Brevo
// confirmed is recorded per item, then settled created or updated.
func (p *Products) write(ctx context.Context, batch []*pipeline.Msg, write []*pendingProduct,
	known map[string]map[string]catalogstate.Entry, errs []error) {
	done := p.send(ctx, write, errs)
	if len(done) == 0 {
		return
	}
	byCatalog := map[string][]*pendingProduct{}
	for _, pp := range done {
		byCatalog[pp.op.Catalog] = append(byCatalog[pp.op.Catalog], pp)
	}
	for cat, pps := range byCatalog {
		ops := make(map[string]*pendingProduct, len(pps))
		ids := make([]string, len(pps))
		for k, pp := range pps {
			ops[pp.op.Product.ID] = pp
			ids[k] = pp.op.Product.ID
		}
		err := p.items.Modify(ctx, cat, ids, func(id string, cur catalogstate.Entry, ok bool) (catalogstate.Entry, bool) {
			pp := ops[id]
			if ok && cur.Version > pp.op.Version {
				return cur, false // a newer write got there first
			}
			o := ledger.Updated
			if prev, had := known[cat][id]; !had || prev.Deleted && !pp.op.Product.Deleted {
				o = ledger.Created
			}
			if ok && cur.Run == proto.RunTag(pp.op.RunID) && cur.Fingerprint == pp.op.Fingerprint {
				o, _ = ledger.Unpack(cur.Outcome) // this write, recorded before: keep its outcome
			}
			return catalogstate.Entry{Version: pp.op.Version, Fingerprint: pp.op.Fingerprint, Deleted: pp.op.Product.Deleted,
				Name: pp.op.Product.Name, Run: proto.RunTag(pp.op.RunID), Outcome: ledger.Cell(o, 0)}, true
		})
		if err != nil {
			// Brevo holds the products; without the record a redelivery
			// writes them again, which is harmless (an upsert).
			for _, pp := range pps {
				errs[pp.i] = fmt.Errorf("recording products written: %w", err)
			}
			continue
		}
		got, err := p.items.Get(ctx, cat, ids)
		for _, pp := range pps {
			o := ledger.Updated
			e, ok := got[pp.op.Product.ID]
			switch {
			case err != nil || !ok:
			case e.Run == proto.RunTag(pp.op.RunID) && e.Fingerprint == pp.op.Fingerprint:
				o, _ = ledger.Unpack(e.Outcome)
			case e.Version > pp.op.Version:
				o = ledger.Stale // a newer write was recorded first
			}
			batch[pp.i].Settle(o, 0)
		}
	}
}

// send writes products in calls of at most BatchSize; a call refused for
// good is split in halves until the products at fault are alone, and those
// get a permanent error. It returns the products Brevo confirmed.
func (p *Products) send(ctx context.Context, write []*pendingProduct, errs []error) []*pendingProduct {
	var done []*pendingProduct
	for start := 0; start < len(write); start += p.cfg.BatchSize {
		part := write[start:min(start+p.cfg.BatchSize, len(write))]
		done = append(done, p.sendPart(ctx, part, errs)...)
	}
	return done
}

func (p *Products) sendPart(ctx context.Context, part []*pendingProduct, errs []error) []*pendingProduct {
	products := make([]brevo.Product, len(part))
	for k, pp := range part {
		products[k] = toBrevo(pp.op.Product)
	}
	_, err := p.bv.UpsertProducts(ctx, products)
	switch {
	case err == nil:
		return part
	case brevo.Retryable(err) || ctx.Err() != nil:
		for _, pp := range part {
			errs[pp.i] = productFate(err)
		}
		return nil
	case len(part) == 1:
		errs[part[0].i] = pipeline.Permanent(ReasonProductRefused,
			fmt.Errorf("catalog %s product %s: %w", part[0].op.Catalog, part[0].op.Product.ID, err))
		return nil
	}
	p.log.Warn("Brevo refused a product batch; splitting it to find the products at fault", "products", len(part), "err", err)
	half := len(part) / 2
	return append(p.sendPart(ctx, part[:half], errs), p.sendPart(ctx, part[half:], errs)...)
}

func toBrevo(pr proto.Product) brevo.Product {
	return brevo.Product{ID: pr.ID, Name: pr.Name, URL: pr.URL, ImageURL: pr.ImageURL, SKU: pr.SKU, Price: pr.Price,
		Categories: pr.Categories, MetaInfo: pr.Meta, IsDeleted: pr.Deleted}
}

// productFate turns a Brevo failure into the messages' fate: a throttle
// waits for the reset, other retryable failures back off, the rest are
// dead-lettered with Brevo's answer.
func productFate(err error) error {
	switch {
	case brevo.RetryAfter(err) > 0:
		return pipeline.RetryAfter(brevo.RetryAfter(err), err)
	case brevo.Retryable(err):
		return err
	default:
		return pipeline.Permanent(ReasonProductRefused, err)
	}
}
