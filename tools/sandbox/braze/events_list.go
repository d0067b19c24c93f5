package braze

import (
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Permissions of the reads in this file.
const (
	PermEventsList          = "events.list"
	PermPurchasesProducts   = "purchases.product_list"
	bucketEventsAndProducts = "events.list+purchases.product_list"
	eventsPerHour           = 1000
	eventsPerPage           = 250
	productsPerPage         = 250
)

// customEvents and products are what the generated users record (gen's
// custom_events and purchases); a test keeps the two in step.
var (
	customEvents = []string{"added_to_cart", "completed_onboarding", "searched", "shared_wishlist", "started_trial", "viewed_product"}
	products     = []string{"Coffee Beans 1kg", "E-Book Bundle", "Gift Card", "Premium Plan", "Running Shoes"}
)

// routeEvents registers GET /events/list and GET /purchases/product_list,
// which share one budget of 1,000 requests an hour (API notes).
func (s *Server) routeEvents() {
	s.buckets[bucketEventsAndProducts] = &bucket{limit: eventsPerHour, window: time.Hour}
	s.mux.Handle("GET /events/list", s.api(PermEventsList, bucketEventsAndProducts, func(w http.ResponseWriter, r *http.Request) {
		listNames(w, r, "events", customEvents, eventsPerPage)
	}))
	s.mux.Handle("GET /purchases/product_list", s.api(PermPurchasesProducts, bucketEventsAndProducts, func(w http.ResponseWriter, r *http.Request) {
		listNames(w, r, "products", products, productsPerPage)
	}))
}

// listNames serves one 0-based page of names, sorted alphabetically, under
// field. It only reads.
func listNames(w http.ResponseWriter, r *http.Request, field string, names []string, perPage int) {
	page := 0
	if p := r.URL.Query().Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "Invalid page: "+p, "page must be a non-negative integer")
			return
		}
		page = n
	}
	sorted := slices.Sorted(slices.Values(names))
	out := []string{}
	for k := page * perPage; k < len(sorted) && k < (page+1)*perPage; k++ {
		out = append(out, sorted[k])
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "success", field: out})
}
