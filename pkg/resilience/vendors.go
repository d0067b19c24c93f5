package resilience

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
)

// Vendor names, the same as braze.Vendor and brevo.Vendor.
const (
	VendorBraze = braze.Vendor
	VendorBrevo = brevo.Vendor
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
// bucket and how the rate-limit headers read.
type vendor struct {
	name string
	// basePath is stripped from a request path before matching, when the
	// transport was not told the API's base URL.
	basePath string
	bucketOf func(method, path string) string
	headers  func(h http.Header, now time.Time) (observed, bool)
}

func vendorOf(name string) (vendor, error) {
	switch name {
	case VendorBraze:
		return vendor{name: name, bucketOf: brazeBucket, headers: brazeHeaders}, nil
	case VendorBrevo:
		return vendor{name: name, basePath: "/v3", bucketOf: brevoBucket, headers: brevoHeaders}, nil
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

// observed is one response's rate-limit headers.
type observed struct {
	limit     int // 0 when not sent
	remaining int
	reset     time.Time // zero when not sent
}

// brazeHeaders reads X-RateLimit-*; the reset is UTC epoch seconds.
func brazeHeaders(h http.Header, _ time.Time) (observed, bool) {
	o, ok := remainingOf(h, "X-RateLimit-Limit", "X-RateLimit-Remaining")
	if !ok {
		return o, false
	}
	if secs, err := strconv.ParseFloat(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 64); err == nil && secs > 0 {
		o.reset = time.Unix(0, int64(secs*1e9)).UTC()
	}
	return o, true
}

// brevoHeaders reads x-sib-ratelimit-*; the reset is seconds from now.
func brevoHeaders(h http.Header, now time.Time) (observed, bool) {
	o, ok := remainingOf(h, "X-Sib-Ratelimit-Limit", "X-Sib-Ratelimit-Remaining")
	if !ok {
		return o, false
	}
	if secs, err := strconv.ParseFloat(strings.TrimSpace(h.Get("X-Sib-Ratelimit-Reset")), 64); err == nil && secs >= 0 {
		o.reset = now.Add(time.Duration(secs * float64(time.Second)))
	}
	return o, true
}

func remainingOf(h http.Header, limitKey, remainingKey string) (observed, bool) {
	remaining, err := strconv.Atoi(strings.TrimSpace(h.Get(remainingKey)))
	if err != nil {
		return observed{}, false
	}
	limit, _ := strconv.Atoi(strings.TrimSpace(h.Get(limitKey)))
	return observed{limit: limit, remaining: max(remaining, 0)}, true
}
