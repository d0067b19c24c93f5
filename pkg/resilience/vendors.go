package resilience

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// Vendor names, the same as braze.Vendor and brevo.Vendor.
const (
	VendorBraze = restcall.VendorBraze
	VendorBrevo = restcall.VendorBrevo
)

// Bucket names, as reported by States, Transitions and Snapshot.
const (
	bucketBrazeTrack        = "users.track"
	bucketBrazeExportIDs    = "users.export.ids"
	bucketBrazeIdentity     = "users.identity"
	bucketBrazeDataSeries   = "campaigns.data_series"
	bucketBrazeSubscription = "subscription.status"
	bucketBrazeEventLists   = "events.list"
	bucketBrazeCatalogSync  = "catalogs.sync"
	bucketBrazeDefault      = "default"

	bucketBrevoContacts = "contacts"
	bucketBrevoEvents   = "events"
	bucketBrevoProducts = "products"
	bucketBrevoOther    = "other"
)

// vendor is what differs between Braze and Brevo: how a request maps to a
// bucket, and the rate-limit headers (restcall reads them for the clients
// too).
type vendor struct {
	name string
	// basePath is stripped from a request path before matching, when the
	// transport was not told the API's base URL.
	basePath string
	bucketOf func(method, path string) string
	headers  restcall.Headers
}

func vendorOf(name string) (vendor, error) {
	switch name {
	case VendorBraze:
		return vendor{name: name, bucketOf: brazeBucket, headers: restcall.BrazeHeaders}, nil
	case VendorBrevo:
		return vendor{name: name, basePath: "/v3", bucketOf: brevoBucket, headers: restcall.BrevoHeaders}, nil
	}
	return vendor{}, fmt.Errorf("%w: unknown vendor %q: use %q or %q", ErrInvalidConfig, name, VendorBraze, VendorBrevo)
}

// brazeBucket follows Braze's rate-limit table. Catalog endpoints that read
// or edit single items are synchronous (50/min); bulk item edits and
// catalog creation are asynchronous and fall in the default pool.
func brazeBucket(method, path string) string {
	path = strings.TrimSuffix(path, "/")
	switch {
	case path == "/users/track":
		return bucketBrazeTrack
	case path == "/users/export/ids":
		return bucketBrazeExportIDs
	case path == "/users/delete", path == "/users/identify", path == "/users/merge",
		strings.HasPrefix(path, "/users/alias/"):
		return bucketBrazeIdentity
	case path == "/campaigns/data_series":
		return bucketBrazeDataSeries
	case path == "/subscription/status/set", path == "/v2/subscription/status/set":
		return bucketBrazeSubscription
	case path == "/events/list", path == "/purchases/product_list":
		return bucketBrazeEventLists
	case strings.HasPrefix(path, "/catalogs"):
		parts := strings.Split(strings.TrimPrefix(path, "/"), "/") // catalogs, name, items, id
		if method == http.MethodGet || (len(parts) == 4 && parts[2] == "items") {
			return bucketBrazeCatalogSync
		}
	}
	return bucketBrazeDefault
}

// brevoBucket: every /contacts endpoint shares one budget; POST /events and
// POST /products* have their own; the rest share the 100/hour pool.
func brevoBucket(method, path string) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	switch {
	case first == "contacts":
		return bucketBrevoContacts
	case first == "events" && method == http.MethodPost:
		return bucketBrevoEvents
	case strings.HasPrefix(first, "products") && method == http.MethodPost:
		return bucketBrevoProducts
	}
	return bucketBrevoOther
}
