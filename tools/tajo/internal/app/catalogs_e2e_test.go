package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/catalogmap"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/restcall"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/services/transformer"
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
	ns   *natsx.Embedded
	app  *app.App
	nc   *nats.Conn
	ropt app.ResourcesOptions
}

// startCatalogs starts the simulators, with a catalog of items products,
// a NATS server, and an app (a "process") on it.
func startCatalogs(t *testing.T, items int, fs faults.Spec) *catalogEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sb := startSandbox(t, ctx, sandbox.Options{Users: 10, Seed: 42, RateLimits: true,
		BrazeLimits: brazesim.Limits{CatalogSyncPerMinute: catalogPerMinute}, Faults: fs})
	if err := sb.Braze.PutCatalog("products", brazesim.GenerateItems("sku", items, 7)); err != nil {
		t.Fatal(err)
	}
	e := &catalogEnv{sb: sb, ns: natsxtest.Server(t)}
	e.connect(t)
	return e
}

// connect starts a new "process": a connection of its own and an app on it.
func (e *catalogEnv) connect(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	nc, _ := natsxtest.Conn(t, e.ns)
	log := testLogger(t, slog.LevelInfo)
	bzc, bvc := vendorConfigs(e.sb)
	a, err := app.New(ctx, app.Options{NC: nc, Braze: bzc, Brevo: bvc,
		Mapping: mapping.Options{Fields: mapping.DefaultFieldMapping()}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mp := catalogmap.DefaultConfig()
	mp.Metadata = []string{"brand", "color"}
	retry := resilience.Policy{Backoff: restcall.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}, MaxAttempts: 8}
	redeliver := pipeline.Backoff{Backoff: restcall.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}}
	e.app, e.nc = a, nc
	e.ropt = app.ResourcesOptions{
		Braze: bzc, Brevo: bvc,
		Resilience: resilience.Config{
			Limits: resilience.Limits{Braze: resilience.BrazeLimits{CatalogSyncPerMinute: catalogPerMinute}},
			Retry:  retry,
		},
		Catalogs:            &extractor.CatalogsConfig{Poll: 50 * time.Millisecond, Retry: retry},
		CatalogsTransformer: transformer.CatalogsConfig{Mapping: mp, AckWait: 2 * time.Second, Backoff: redeliver},
		Products:            loader.ProductsConfig{AckWait: 2 * time.Second, Backoff: redeliver},
		Once:                true,
		Logger:              log,
	}
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
	e := startCatalogs(t, 1000, faults.Spec{})
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

// shopState is what Brevo holds of each product, timestamps aside.
func shopState(sb *sandbox.Sandbox) map[string]string {
	out := map[string]string{}
	for _, p := range sb.Brevo.Products() {
		p.CreatedAt, p.ModifiedAt = "", ""
		b, _ := json.Marshal(p)
		out[p.ID] = string(b)
	}
	return out
}

// catalogChanges is what the Braze side does between two syncs in the
// fault test.
var catalogChanges = brazesim.CatalogChange{
	Delete: []string{"sku-000004", "sku-000150", "sku-000299"},
	Set: map[string]map[string]any{"sku-000001": {"price": 99.5}, "sku-000002": {"name": "Renamed"},
		"sku-000003": {"category": "Lamps"}},
	Add: []brazesim.CatalogItem{{"id": "new-1", "name": "New one", "price": 1.25, "category": "Lamps", "brand": "Acme", "color": "red"}},
}

// TestCatalogSyncUnderFaultsAndKills: under the chaos fault mix on both
// vendors (429s, 5xx, resets before and after handling, cut bodies), with
// the process killed in the middle of its first sync (its connection cut:
// what it held unacknowledged is redelivered to the next one) and Braze
// changed between syncs, the final Brevo product state equals a
// fault-free run's.
func TestCatalogSyncUnderFaultsAndKills(t *testing.T) {
	const items = 300
	ref := startCatalogs(t, items, faults.Spec{})
	ref.sync(t)
	if err := ref.sb.Braze.MutateCatalog("products", catalogChanges); err != nil {
		t.Fatal(err)
	}
	ref.sync(t)
	want := shopState(ref.sb)

	spec, err := faults.Parse("429=0.1,5xx=0.1,reset=0.05,lost=0.1,truncate=0.05")
	if err != nil {
		t.Fatal(err)
	}
	e := startCatalogs(t, items, spec)
	// The first process is killed once Brevo has received a third of the
	// products: its connection is cut (no drain, no acks), then it stops.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.app.RunResources(ctx, e.ropt) }()
	deadline := time.Now().Add(time.Minute)
	for e.sb.Brevo.Shop().ProductsReceived < items/3 {
		if time.Now().After(deadline) {
			t.Fatal("no products reached Brevo within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.nc.Close()
	cancel()
	<-done
	t.Logf("killed with %d products received", e.sb.Brevo.Shop().ProductsReceived)

	e.connect(t)
	e.sync(t)
	if err := e.sb.Braze.MutateCatalog("products", catalogChanges); err != nil {
		t.Fatal(err)
	}
	e.sync(t)
	// One more sync: what any redelivery left behind is through, and the
	// run finds nothing to write.
	r := e.sync(t)
	if o := r.Outcome; o.Unchanged != items-2 || o.Created+o.Updated+o.Deleted+o.DeadLettered != 0 {
		t.Errorf("the last sync under faults: %+v; want everything unchanged", *o)
	}
	got := shopState(e.sb)
	if len(got) != len(want) {
		t.Errorf("Brevo holds %d products under faults, %d without", len(got), len(want))
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("product %s under faults:\n%s\nwithout faults:\n%s", id, got[id], w)
		}
	}
	t.Logf("answers under faults: Brevo %v, Braze %v", e.sb.Brevo.State().Statuses, e.sb.Braze.Requests())
}

// TestCatalogReadFailureDeletesNothing: a catalog that could not be read
// whole (the key lost the items permission) is not taken for an empty
// one: the run fails naming the cause, and no product is marked deleted.
func TestCatalogReadFailureDeletesNothing(t *testing.T) {
	e := startCatalogs(t, 120, faults.Spec{})
	e.sync(t)
	e.sb.Braze.AddKey("no-items", brazesim.PermCatalogsGet)
	o := e.ropt
	o.Braze.APIKey = "no-items"
	var runs []*proto.SyncRun
	o.Finished = func(r *proto.SyncRun) { runs = append(runs, r) }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := e.app.RunResources(ctx, o)
	if err == nil || len(runs) != 1 || runs[0].Status != proto.RunFailed || !strings.Contains(runs[0].Error, "403") {
		t.Fatalf("a sync whose items cannot be read: %v, runs %+v", err, runs)
	}
	if s := e.sb.Brevo.Shop(); s.DeletedProducts != 0 || s.Products != 120 {
		t.Errorf("after a failed read: %+v; want the 120 products left as they were", s)
	}
}
