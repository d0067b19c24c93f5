package proto

// Catalog sync: Braze catalog items become Brevo products.
//
//	extractor ──raw.braze.catalog──▶ transformer ──ops.brevo.products──▶ loader ──▶ POST /products/batch
//
// What was last applied per item lives in BucketCatalogs (pkg/catalogstate);
// each run's lines are accounted for in BucketCatalogLedger (pkg/ledger).
const (
	// ResourceCatalogs names catalog runs (SyncRun.Resource, LastRunKey).
	ResourceCatalogs = "catalogs"

	// SubjectRawBrazeCatalog carries RawCatalogItem: one catalog item as
	// Braze listed it, or the deletion of one Braze no longer lists.
	SubjectRawBrazeCatalog = "raw.braze.catalog"
	// SubjectOpsBrevoProducts carries ProductOp: one product to write.
	SubjectOpsBrevoProducts = "ops.brevo.products"

	// BucketCatalogs holds, per catalog, what was last applied at Brevo
	// for each item, in a fixed number of shards per catalog.
	BucketCatalogs = "tajo_catalogs"
	// BucketCatalogLedger holds what became of each line of a catalog run.
	// It is apart from BucketLedger, whose owner prunes it by users runs.
	BucketCatalogLedger = "tajo_catalog_ledger"

	// DurableCatalogTransformer and DurableProductLoader are the consumers
	// every replica of the catalog stages shares; the extractor watches
	// them drain to know a catalog run is through.
	DurableCatalogTransformer = "transformer-catalogs"
	DurableProductLoader      = "loader-products"
)

// RawCatalogItem is one item of a Braze catalog, as read, or the deletion
// of an item the catalog no longer holds.
type RawCatalogItem struct {
	V       int    `msgpack:"v"`
	RunID   string `msgpack:"run"`
	Catalog string `msgpack:"cat"`
	ItemID  string `msgpack:"id"`
	// Version is the source version: unix ms when the run began. An older
	// version never overwrites a newer one.
	Version int64 `msgpack:"sv"`
	// Item is the item's JSON object as Braze sent it (nil for a deletion).
	Item []byte `msgpack:"item,omitempty"`
	// Deleted: Braze no longer lists the item; Name is the product's last
	// name (Brevo requires one on every product written).
	Deleted bool   `msgpack:"del,omitempty"`
	Name    string `msgpack:"name,omitempty"`
}

func (m *RawCatalogItem) Schema() int { return m.V }

// Product is a Brevo product as the connector writes it.
type Product struct {
	ID         string            `msgpack:"id"`
	Name       string            `msgpack:"name"`
	URL        string            `msgpack:"url,omitempty"`
	ImageURL   string            `msgpack:"img,omitempty"`
	SKU        string            `msgpack:"sku,omitempty"`
	Price      *float64          `msgpack:"price,omitempty"`
	Categories []string          `msgpack:"cats,omitempty"` // category ids; each is also the category's name
	Meta       map[string]string `msgpack:"meta,omitempty"` // metaInfo, at most 10 keys
	Deleted    bool              `msgpack:"del,omitempty"`  // isDeleted
}

// ProductOp asks the loader to make Brevo hold Product for a catalog item.
type ProductOp struct {
	V           int     `msgpack:"v"`
	RunID       string  `msgpack:"run"`
	Catalog     string  `msgpack:"cat"`
	Version     int64   `msgpack:"sv"`
	Fingerprint string  `msgpack:"fp"`
	Product     Product `msgpack:"p"`
}

func (m *ProductOp) Schema() int { return m.V }
