package extractor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/catalogstate"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// CatalogsLease names the lease the replica syncing catalogs holds.
const CatalogsLease = "extractor.catalogs"

// CatalogsBraze is what the catalog sync needs from a Braze client.
type CatalogsBraze interface {
	ListCatalogs(ctx context.Context) ([]braze.Catalog, error)
	CatalogItems(ctx context.Context, name, cursor string) (braze.CatalogPage, error)
}

var _ CatalogsBraze = (*braze.Client)(nil)

// CatalogsConfig tunes the catalog sync.
type CatalogsConfig struct {
	// Catalogs are the names of the Braze catalogs to sync; empty: every
	// catalog of the workspace (connectors.braze.sync.catalogs.catalogs).
	Catalogs []string
	// Fields are the item fields the mapping reads: a catalog whose schema
	// lacks one is said so in the log (the items then lack that field).
	Fields []string
	// Interval between scheduled syncs (Run); default 1h.
	Interval time.Duration
	// Retry retries each Braze call on a retryable failure.
	Retry resilience.Policy
	// Settle bounds how long a run waits for the transformer and the
	// loader to handle what it published; default 1h. A run not through by
	// then is recorded incomplete.
	Settle time.Duration
	// Poll is how often a run looks whether it is through; default 200ms.
	Poll     time.Duration
	LeaseTTL time.Duration // default DefaultLeaseTTL
	Instance string
	Logger   *slog.Logger
}

// Catalogs reads Braze catalogs into the RAW stream (raw.braze.catalog),
// one message per item, then one per item Braze no longer lists (to mark
// the product deleted), and follows each run until the loader has written
// it.
type Catalogs struct {
	cfg    CatalogsConfig
	js     jetstream.JetStream
	bz     CatalogsBraze
	st     *state.Store
	items  *catalogstate.Store
	ledger *ledger.Ledger
	log    *slog.Logger

	mu      sync.Mutex
	running bool
}

// NewCatalogs builds the catalog sync; the streams and buckets must be
// provisioned.
func NewCatalogs(ctx context.Context, js jetstream.JetStream, bz CatalogsBraze, st *state.Store, cfg CatalogsConfig) (*Catalogs, error) {
	if js == nil || bz == nil || st == nil {
		return nil, errors.New("extractor catalogs: JetStream, a Braze client and the state store are required")
	}
	for _, n := range cfg.Catalogs {
		if !braze.ValidCatalogName(n) {
			return nil, fmt.Errorf("extractor catalogs: %q is not a Braze catalog name (letters, digits, - and _)", n)
		}
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Hour
	}
	if cfg.Settle <= 0 {
		cfg.Settle = time.Hour
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 200 * time.Millisecond
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	items, led, err := catalogstate.OpenWithLedger(ctx, js)
	if err != nil {
		return nil, fmt.Errorf("extractor catalogs: %w", err)
	}
	return &Catalogs{cfg: cfg, js: js, bz: bz, st: st, items: items, ledger: led,
		log: cfg.Logger.With("service", proto.StageExtractor, "resource", proto.ResourceCatalogs)}, nil
}

// Run syncs the catalogs at once and then every Interval while this
// replica holds CatalogsLease, until ctx is done.
// finished, when set, is told of every run that ends.
func (c *Catalogs) Run(ctx context.Context, holder string, finished func(*proto.SyncRun)) error {
	return leased(ctx, c.st, CatalogsLease, holder+"/"+strconv.FormatInt(time.Now().UnixNano(), 36), c.cfg.LeaseTTL, c.cfg.Interval, c.log,
		func(ctx context.Context) {
			r, err := c.Sync(ctx)
			if err != nil && ctx.Err() == nil {
				c.log.Error("catalog sync failed", "err", err)
			}
			if r != nil && finished != nil {
				finished(r)
			}
		})
}

// ErrCatalogsBusy is returned by Sync while a catalog run is in progress.
var ErrCatalogsBusy = errors.New("a catalog sync is already running")

// Sync runs one catalog sync to its end: every catalog read and published,
// every item Braze no longer lists published as a deletion, and every line
// handled by the transformer and the loader. It returns the run, recorded
// completed, incomplete or failed.
func (c *Catalogs) Sync(ctx context.Context) (*proto.SyncRun, error) {
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return nil, ErrCatalogsBusy
	}
	c.running = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.running = false
		c.mu.Unlock()
	}()

	run := &proto.SyncRun{V: proto.SchemaVersion, ID: state.NewID(), Resource: proto.ResourceCatalogs, Type: "full",
		Status: proto.RunRunning, StartedAt: time.Now().UnixMilli()}
	run.ExportedAt = run.StartedAt
	if err := c.begin(ctx, run); err != nil {
		return nil, err
	}
	r := &catalogRun{c: c, run: run, pub: pipeline.NewPublisher(c.js, 1024), log: c.log.With("run", run.ID)}
	readErr := r.readAll(ctx)
	if ctx.Err() != nil {
		c.fail(run, ctx.Err())
		return run, ctx.Err()
	}
	if err := r.flush(ctx); err != nil {
		c.fail(run, err)
		return run, err
	}
	run.Status = proto.RunExported
	if err := c.st.PutRun(ctx, run); err != nil {
		return run, fmt.Errorf("recording run %s: %w", run.ID, err)
	}
	r.log.Info("catalogs read", "lines", run.Exported+run.Malformed, "deletions", r.deletions)
	if err := c.settle(ctx, r); err != nil {
		c.fail(run, err)
		return run, err
	}
	if readErr != nil {
		run.Status, run.Error = proto.RunFailed, readErr.Error()
	}
	if err := c.st.PutRun(context.WithoutCancel(ctx), run); err != nil {
		return run, fmt.Errorf("recording run %s: %w", run.ID, err)
	}
	return run, readErr
}

func (c *Catalogs) begin(ctx context.Context, run *proto.SyncRun) error {
	prev, err := c.st.LastRun(ctx, proto.ResourceCatalogs)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return fmt.Errorf("reading the last catalog run: %w", err)
	}
	if err := c.st.PutRun(ctx, run); err != nil {
		return fmt.Errorf("recording run: %w", err)
	}
	if err := c.st.SetLastRun(ctx, proto.ResourceCatalogs, run.ID); err != nil {
		return fmt.Errorf("recording run: %w", err)
	}
	keep := []string{run.ID}
	if prev != nil {
		keep = append(keep, prev.ID)
	}
	if err := c.ledger.Prune(ctx, keep...); err != nil {
		c.log.Warn("pruning the ledgers of older catalog runs", "err", err)
	}
	return nil
}

// fail records run as failed (a run cut short by a stop too: the next
// sync starts a new one).
func (c *Catalogs) fail(run *proto.SyncRun, err error) {
	run.Status, run.Error, run.FinishedAt = proto.RunFailed, err.Error(), time.Now().UnixMilli()
	if run.Outcome == nil {
		run.Outcome = &proto.RunOutcome{} // what it wrote is counted by the next run
	}
	pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if perr := c.st.PutRun(pctx, run); perr != nil {
		c.log.Warn("recording a failed catalog run", "run", run.ID, "err", perr)
	}
}

// catalogRun is one run in progress.
type catalogRun struct {
	c         *Catalogs
	run       *proto.SyncRun
	pub       *pipeline.Publisher
	log       *slog.Logger
	line      int64
	marks     []ledger.Mark
	items     int64 // lines of items (the deletions come after them)
	deletions int64
}

// readAll reads every catalog to sync. A catalog that cannot be read is
// skipped (its deletions too: what was not read is not known gone) and
// named in the error; the others are synced.
func (r *catalogRun) readAll(ctx context.Context) error {
	var cats []braze.Catalog
	err := r.c.cfg.Retry.Do(ctx, func(ctx context.Context) (err error) {
		cats, err = r.c.bz.ListCatalogs(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("listing Braze catalogs (the key needs the catalogs.get permission): %w", err)
	}
	byName := map[string]braze.Catalog{}
	for _, ct := range cats {
		byName[ct.Name] = ct
	}
	names := r.c.cfg.Catalogs
	if len(names) == 0 {
		for _, ct := range cats {
			names = append(names, ct.Name)
		}
	}
	var errs []error
	type done struct {
		name string
		seen []uint64
	}
	var read []done
	for _, name := range names {
		ct, ok := byName[name]
		if !ok {
			errs = append(errs, fmt.Errorf("catalog %q (connectors.braze.sync.catalogs.catalogs) is not in the Braze workspace", name))
			continue
		}
		r.warnMissingFields(ct)
		seen, err := r.readCatalog(ctx, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		read = append(read, done{name, seen})
	}
	r.items = r.line
	// Deletions come after every item: an item moved between catalogs is
	// written before anything is deleted.
	for _, d := range read {
		if err := r.publishDeletions(ctx, d.name, d.seen); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *catalogRun) warnMissingFields(ct braze.Catalog) {
	have := map[string]bool{}
	for _, f := range ct.Fields {
		have[f.Name] = true
	}
	var missing []string
	for _, f := range r.c.cfg.Fields {
		if !have[f] {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 && len(ct.Fields) > 0 {
		r.log.Warn("the catalog has no field the mapping reads: its products lack it",
			"catalog", ct.Name, "fields", strings.Join(missing, ","))
	}
}

// maxCatalogPages stops a server that always answers with a next page.
const maxCatalogPages = 1_000_000

// readCatalog publishes every item of catalog name, page by page, and
// returns the hashes of the item ids it saw, sorted.
func (r *catalogRun) readCatalog(ctx context.Context, name string) ([]uint64, error) {
	var seen []uint64
	cursor := ""
	for page := 0; ; page++ {
		if page >= maxCatalogPages {
			return nil, fmt.Errorf("reading catalog %s: still a next page after %d pages", name, page)
		}
		var p braze.CatalogPage
		err := r.c.cfg.Retry.Do(ctx, func(ctx context.Context) (err error) {
			p, err = r.c.bz.CatalogItems(ctx, name, cursor)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("reading catalog %s page %d: %w", name, page+1, err)
		}
		for _, item := range p.Items {
			id, err := r.publishItem(ctx, name, item)
			if err != nil {
				return nil, err
			}
			if id != "" {
				seen = append(seen, idHash(id))
			}
		}
		if len(r.marks) >= markEvery {
			if err := r.flush(ctx); err != nil {
				return nil, err
			}
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	slices.Sort(seen)
	r.log.Info("catalog read", "catalog", name, "items", len(seen))
	return seen, nil
}

func idHash(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// publishItem publishes one item, or dead-letters it when it has no id;
// it returns the item's id ("" when dead-lettered).
func (r *catalogRun) publishItem(ctx context.Context, catalog string, item json.RawMessage) (string, error) {
	var head struct {
		ID any `json:"id"`
	}
	_ = json.Unmarshal(item, &head)
	id, _ := head.ID.(string)
	if id == "" {
		return "", r.deadLetter(ctx, catalog, item)
	}
	raw := &proto.RawCatalogItem{V: proto.SchemaVersion, RunID: r.run.ID, Catalog: catalog, ItemID: id,
		Version: r.run.StartedAt, Item: item}
	return id, r.publish(ctx, raw, proto.MsgID("raw.catalog."+r.run.ID, catalog+"/"+id, item))
}

func (r *catalogRun) publish(ctx context.Context, raw *proto.RawCatalogItem, msgID string) error {
	data, err := proto.Encode(raw)
	if err != nil {
		return err
	}
	no := r.line
	r.line++
	hdr := nats.Header{}
	hdr.Set(proto.HeaderSchema, "1")
	hdr.Set(proto.HeaderRunID, r.run.ID)
	hdr.Set(proto.HeaderSourceVersion, strconv.FormatInt(raw.Version, 10))
	hdr.Set(proto.HeaderLine, strconv.FormatInt(no, 10))
	if err := r.pub.Publish(ctx, proto.SubjectRawBrazeCatalog, msgID, hdr, data); err != nil {
		return fmt.Errorf("publishing catalog %s item %s: %w", raw.Catalog, raw.ItemID, err)
	}
	r.marks = append(r.marks, ledger.Mark{Line: no, Outcome: ledger.Exported})
	r.run.Exported++
	return nil
}

// deadLetter records an item without a string id: it cannot be a product.
func (r *catalogRun) deadLetter(ctx context.Context, catalog string, item json.RawMessage) error {
	no := r.line
	r.line++
	hdr := nats.Header{}
	hdr.Set(proto.HeaderRunID, r.run.ID)
	hdr.Set(proto.HeaderSchema, "1")
	hdr.Set(proto.HeaderMsgID, proto.MsgID("raw.catalog."+r.run.ID, "dead-letter", item))
	payload, err := proto.Encode(&proto.RawCatalogItem{V: proto.SchemaVersion, RunID: r.run.ID, Catalog: catalog,
		Version: r.run.StartedAt, Item: item})
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("catalog %s: an item without a string id (line %d of the run)", catalog, no)
	if err := pipeline.PublishDeadLetter(ctx, r.c.js, proto.StageExtractor, "no_item_id", detail,
		proto.SubjectRawBrazeCatalog, hdr, payload, 1); err != nil {
		return fmt.Errorf("dead-lettering %s: %w", detail, err)
	}
	r.marks = append(r.marks, ledger.Mark{Line: no, Outcome: ledger.DeadLettered})
	r.run.Malformed++
	r.log.Warn("catalog item dead-lettered", "reason", "no_item_id", "detail", detail)
	return nil
}

// publishDeletions publishes the deletion of every item of catalog that
// was written to Brevo (and not deleted since) but is not in seen.
func (r *catalogRun) publishDeletions(ctx context.Context, catalog string, seen []uint64) error {
	err := r.c.items.Each(ctx, catalog, func(id string, e catalogstate.Entry) error {
		if e.Deleted {
			return nil
		}
		if _, found := slices.BinarySearch(seen, idHash(id)); found {
			return nil
		}
		raw := &proto.RawCatalogItem{V: proto.SchemaVersion, RunID: r.run.ID, Catalog: catalog, ItemID: id,
			Version: r.run.StartedAt, Deleted: true, Name: e.Name}
		if err := r.publish(ctx, raw, proto.MsgID("raw.catalog."+r.run.ID, catalog+"/"+id, []byte("deleted"))); err != nil {
			return err
		}
		r.deletions++
		if len(r.marks) >= markEvery {
			return r.flush(ctx)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finding the items catalog %s no longer has: %w", catalog, err)
	}
	return nil
}

// flush waits until the stream stored every line published so far, then
// marks them in the run's ledger.
func (r *catalogRun) flush(ctx context.Context) error {
	if err := r.pub.Flush(ctx); err != nil {
		return fmt.Errorf("publishing catalog items: %w", err)
	}
	if err := r.c.ledger.Mark(ctx, r.run.ID, proto.StageExtractor, r.marks); err != nil {
		return err
	}
	r.marks = r.marks[:0]
	return nil
}

// catalogStages mark a catalog run's ledger.
var catalogStages = []string{proto.StageExtractor, proto.StageTransformer, proto.StageLoader}

// settle waits until every line of the run is settled (written, unchanged,
// stale, merged or dead-lettered), or until the transformer and the loader
// have nothing left of it while some lines are not (incomplete), or
// Settle has passed; then it records the run's outcome.
func (c *Catalogs) settle(ctx context.Context, r *catalogRun) error {
	run := r.run
	lines := run.Exported + run.Malformed
	deadline := time.Now().Add(c.cfg.Settle)
	t := time.NewTicker(c.cfg.Poll)
	defer t.Stop()
	drainedOnce := false
wait:
	for {
		all, err := c.ledger.Tally(ctx, run.ID, lines, catalogStages...)
		if err == nil && all.Missing == 0 {
			break
		}
		if err == nil {
			switch ok, derr := c.drained(ctx); {
			case derr != nil:
				c.log.Warn("checking the catalog consumers", "err", derr)
			case ok && drainedOnce:
				// Drained twice in a row with lines unsettled: nothing
				// will settle them.
				break wait
			default:
				drainedOnce = ok
			}
		} else {
			c.log.Warn("reading the catalog run's ledger", "run", run.ID, "err", err)
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	all, err := c.ledger.Tally(ctx, run.ID, lines, catalogStages...)
	if err != nil {
		return fmt.Errorf("counting the outcome of run %s: %w", run.ID, err)
	}
	items, err := c.ledger.Tally(ctx, run.ID, r.items, catalogStages...)
	if err != nil {
		return fmt.Errorf("counting the outcome of run %s: %w", run.ID, err)
	}
	run.Outcome = catalogOutcome(all, items)
	run.Status = proto.RunCompleted
	if all.Missing > 0 {
		run.Status = proto.RunIncomplete
		run.Error = fmt.Sprintf("%d catalog lines were neither written, unchanged nor dead-lettered (lines %v...): "+
			"the run is incomplete; the next sync sends them", all.Missing, all.MissingLines)
	}
	run.FinishedAt = time.Now().UnixMilli()
	return nil
}

func (c *Catalogs) drained(ctx context.Context) (bool, error) {
	for _, cs := range []struct{ stream, durable string }{
		{proto.StreamRaw, proto.DurableCatalogTransformer},
		{proto.StreamOps, proto.DurableProductLoader},
	} {
		ok, err := c.st.Drained(ctx, c.js, cs.stream, cs.durable)
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			return false, nil
		}
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// catalogOutcome counts a run from the tally of all its lines and of its
// item lines (the deletions are the difference).
func catalogOutcome(all, items ledger.Tally) *proto.RunOutcome {
	del := func(o ledger.Outcome) int64 { return all.ByOutcome[o] - items.ByOutcome[o] }
	return &proto.RunOutcome{
		Created:      items.ByOutcome[ledger.Created],
		Updated:      items.ByOutcome[ledger.Updated],
		Unchanged:    all.ByOutcome[ledger.Unchanged],
		Merged:       all.ByOutcome[ledger.Merged],
		Stale:        all.ByOutcome[ledger.Stale],
		DeadLettered: all.ByOutcome[ledger.DeadLettered],
		Missing:      all.Missing,
		Refused:      all.Refused,
		Deleted:      del(ledger.Updated) + del(ledger.Created),
	}
}
