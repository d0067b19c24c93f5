package app_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/catalogmap"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/tools/sandbox"
	brazesim "github.com/tajo-sync/tajo/tools/sandbox/braze"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
	"github.com/tajo-sync/tajo/tools/sandbox/faults"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// catalogPerMinute is the catalog endpoints' budget in these tests, on
// both sides: the sandbox refuses what is over it, and the connector paces
// itself under it. Braze's 50 a minute would make 20 pages take half a
// minute; the machinery is the same at any figure.
const catalogPerMinute = 1200

type catalogEnv struct {
	sb   *sandbox.Sandbox
	app  *app.App
	ropt app.ResourcesOptions
}

func startCatalogs(t *testing.T, fs faults.Spec, storeDir string) *catalogEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sb, err := sandbox.Start(ctx, sandbox.Options{Users: 10, Seed: 42, RateLimits: true,
		BrazeLimits: brazesim.Limits{CatalogSyncPerMinute: catalogPerMinute}, Faults: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	if err := sb.Braze.PutCatalog("products", brazesim.GenerateItems("sku", 1000, 7)); err != nil {
		t.Fatal(err)
	}
	e := &catalogEnv{sb: sb}
	e.connect(t, storeDir)
	return e
}

// connect starts a NATS server on storeDir and the app on it.
func (e *catalogEnv) connect(t *testing.T, storeDir string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: storeDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	nc, err := natsx.Connect(ctx, ns.ClientURL(), "e2e-catalogs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	bzc := braze.Config{BaseURL: e.sb.BrazeURL, APIKey: e.sb.BrazeAPIKey}
	bvc := brevo.Config{BaseURL: e.sb.BrevoURL, APIKey: e.sb.BrevoAPIKey}
	a, err := app.New(ctx, app.Options{NC: nc, Braze: bzc, Brevo: bvc,
		Mapping: mapping.Options{Fields: mapping.DefaultFieldMapping()}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mp := catalogmap.DefaultConfig()
	mp.Metadata = []string{"brand", "color"}
	e.app = a
	e.ropt = app.ResourcesOptions{
		Braze: bzc, Brevo: bvc,
		Resilience: resilience.Config{
			Limits: resilience.Limits{Braze: resilience.BrazeLimits{CatalogSyncPerMinute: catalogPerMinute}},
			Retry:  resilience.Policy{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond, MaxAttempts: 8},
		},
		Catalogs: &extractor.CatalogsConfig{Poll: 50 * time.Millisecond,
			Retry: resilience.Policy{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond, MaxAttempts: 8}},
		Once:   true,
		Logger: log,
	}
	e.ropt.CatalogsTransformer.Mapping = mp
}

// sync runs one catalog sync to its end and returns its run.
func (e *catalogEnv) sync(t *testing.T) *proto.SyncRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var runs []*proto.SyncRun
	o := e.ropt
	o.Finished = func(r *proto.SyncRun) { runs = append(runs, r) }
	if err := e.app.RunResources(ctx, o); err != nil {
		t.Fatalf("catalog sync: %v", err)
	}
	if len(runs) != 1 {
		t.Fatalf("%d runs finished, want 1", len(runs))
	}
	r := runs[0]
	if r.Status != proto.RunCompleted || r.Outcome == nil {
		t.Fatalf("run %s: status %s, error %q", r.ID, r.Status, r.Error)
	}
	t.Logf("catalog run: read %d, %+v", r.Exported, *r.Outcome)
	return r
}

// wantProducts checks Brevo holds one product per item of the catalog, as
// the mapping says, and the deleted ones marked deleted.
func wantProducts(t *testing.T, sb *sandbox.Sandbox, deleted []string) {
	t.Helper()
	items := sb.Braze.CatalogItems("products")
	byID := map[string]brevosim.Product{}
	for _, p := range sb.Brevo.Products() {
		byID[p.ID] = p
	}
	if len(byID) != len(items)+len(deleted) {
		t.Errorf("Brevo holds %d products, want %d items and %d deleted", len(byID), len(items), len(deleted))
	}
	for _, it := range items {
		id := it["id"].(string)
		p, ok := byID[id]
		if !ok {
			t.Errorf("item %s is no product", id)
			continue
		}
		str := func(k string) string { v, _ := it[k].(string); return v }
		price := it["price"].(float64)
		if p.Name != str("name") || p.Price == nil || *p.Price != price || p.URL != str("url") || p.ImageURL != str("image_url") ||
			p.SKU != str("sku") || !slices.Equal(p.Categories, []string{str("category")}) || p.IsDeleted ||
			p.MetaInfo["brand"] != str("brand") || p.MetaInfo["color"] != str("color") || len(p.MetaInfo) != 2 {
			t.Errorf("item %s: product %+v, want %v", id, p, it)
		}
	}
	for _, id := range deleted {
		if p, ok := byID[id]; !ok || !p.IsDeleted {
			t.Errorf("item %s left the catalog: product %+v, want it marked deleted", id, p)
		}
	}
	if n := sb.Brevo.Shop().UnknownCategoryRefs; n != 0 {
		t.Errorf("%d product writes named a category not created first", n)
	}
}

func requests(counts map[string]int, prefix string) int {
	n := 0
	for k, v := range counts {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

// TestCatalogSync: a catalog of 1,000 items over 20 cursor pages lands as
// 1,000 products (in calls of at most 100, under both vendors' limits); a
// re-sync writes nothing; items deleted, changed and added in Braze are
// marked deleted, updated and created, and nothing else is written.
func TestCatalogSync(t *testing.T) {
	e := startCatalogs(t, faults.Spec{}, t.TempDir())
	start := time.Now()
	r := e.sync(t)
	took := time.Since(start)
	if o := r.Outcome; r.Exported != 1000 || o.Created != 1000 || o.Updated+o.Unchanged+o.Deleted+o.DeadLettered+o.Missing != 0 {
		t.Errorf("first sync: read %d, outcome %+v; want 1000 created", r.Exported, *o)
	}
	wantProducts(t, e.sb, nil)
	bz := e.sb.Braze.Requests()
	if got := bz["GET /catalogs/{catalog_name}/items 200"]; got != 20 {
		t.Errorf("%d item pages read, want 20 (50 items a page)", got)
	}
	if n := requests(bz, "GET /catalogs") - bz["GET /catalogs/{catalog_name}/items 200"] - bz["GET /catalogs 200"]; n != 0 {
		t.Errorf("%d catalog requests were refused (429 or other): %v", n, bz)
	}
	// 21 requests paced under 1,200 a minute (19 a second with the 5%
	// headroom) take at least a second.
	if min := 20 * time.Second * 60 / (catalogPerMinute * 95 / 100); took < min {
		t.Errorf("the sync took %s: under %s, the catalog budget was not paced", took, min)
	}
	shop := e.sb.Brevo.Shop()
	if shop.ProductsReceived != 1000 || shop.ProductBatches < 10 {
		t.Errorf("products sent %d in %d batches, want 1000 in batches of at most 100", shop.ProductsReceived, shop.ProductBatches)
	}
	if n := requests(e.sb.Brevo.Requests(), "POST /v3/products/batch 429"); n != 0 {
		t.Errorf("%d product batches were throttled: the 2/s budget was not paced", n)
	}

	// A re-sync of the unchanged catalog writes nothing.
	r = e.sync(t)
	if o := r.Outcome; o.Unchanged != 1000 || o.Created+o.Updated+o.Deleted != 0 {
		t.Errorf("re-sync outcome %+v; want 1000 unchanged", *o)
	}
	if got := e.sb.Brevo.Shop(); got.ProductsReceived != shop.ProductsReceived || got.CategoryBatches != shop.CategoryBatches {
		t.Errorf("a re-sync of an unchanged catalog sent %d products and %d category batches",
			got.ProductsReceived-shop.ProductsReceived, got.CategoryBatches-shop.CategoryBatches)
	}

	// Deleted, changed and added in Braze.
	gone := []string{"sku-000010", "sku-000500", "sku-001000"}
	err := e.sb.Braze.MutateCatalog("products", brazesim.CatalogChange{
		Delete: gone,
		Set:    map[string]map[string]any{"sku-000002": {"price": 1.5}, "sku-000003": {"category": "Lamps", "color": nil}},
		Add:    []brazesim.CatalogItem{{"id": "new-1", "name": "New thing", "price": 3.25, "category": "Lamps", "brand": "Acme", "color": "red"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	before := e.sb.Brevo.Shop().ProductsReceived
	r = e.sync(t)
	if o := r.Outcome; o.Deleted != 3 || o.Updated != 2 || o.Created != 1 || o.Unchanged != 995 {
		t.Errorf("sync after changes: outcome %+v; want 3 deleted, 2 updated, 1 created, 995 unchanged", *o)
	}
	if got := e.sb.Brevo.Shop().ProductsReceived - before; got != 6 {
		t.Errorf("%d products sent after 6 changes", got)
	}
	p3 := product(e.sb, "sku-000003")
	if _, has := p3.MetaInfo["color"]; has || !slices.Equal(p3.Categories, []string{"Lamps"}) {
		t.Errorf("sku-000003 = %+v: want category Lamps and no color", p3)
	}
	// The mapping drops a field Braze no longer has; metaInfo then holds
	// only brand, which wantProducts would flag: check the rest by hand.
	e.sb.Braze.MutateCatalog("products", brazesim.CatalogChange{Set: map[string]map[string]any{"sku-000003": {"color": "grey"}}})
	r = e.sync(t)
	wantProducts(t, e.sb, gone)
	if o := r.Outcome; o.Updated != 1 || o.Created+o.Deleted != 0 {
		t.Errorf("last sync: %+v; want 1 updated and the deleted items left alone", *o)
	}
}

func product(sb *sandbox.Sandbox, id string) brevosim.Product {
	for _, p := range sb.Brevo.Products() {
		if p.ID == id {
			return p
		}
	}
	return brevosim.Product{}
}
