package brevo

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Brevo's General-plan limits (API notes): every /contacts endpoint shares 10
// requests a second and 36,000 an hour; POST /events (and /events/batch) 10 a
// second; every other endpoint, /processes included, has 100 an hour. Each is
// its own pool.
var (
	contactsLimits = []limit{{10, time.Second}, {36000, time.Hour}}
	eventsLimits   = []limit{{10, time.Second}}
	productsLimits = []limit{{2, time.Second}}
	otherLimits    = []limit{{100, time.Hour}}
)

// Rate-limit pools, by the path a route serves.
const (
	poolContacts = "contacts"
	poolEvents   = "events"
	poolProducts = "products"
	poolOther    = "other"
)

func newPools() map[string]*bucket {
	return map[string]*bucket{
		poolContacts: newBucket(contactsLimits),
		poolEvents:   newBucket(eventsLimits),
		poolProducts: newBucket(productsLimits),
		poolOther:    newBucket(otherLimits),
	}
}

// poolOf names the pool of a route's path ("/v3/contacts/lists", ...).
func poolOf(path string) string {
	switch {
	case strings.HasPrefix(path, "/v3/contacts"):
		return poolContacts
	case path == "/v3/events" || strings.HasPrefix(path, "/v3/events/"):
		return poolEvents
	case path == "/v3/products" || strings.HasPrefix(path, "/v3/products/"):
		return poolProducts
	}
	return poolOther
}

type limit struct {
	max    int
	period time.Duration
}

// window is a fixed window aligned on its period (whole seconds, clock hours).
type window struct {
	limit
	start time.Time
	used  int
}

// bucket is one rate-limit pool made of windows that must all have room.
type bucket struct{ windows []window }

func newBucket(limits []limit) *bucket {
	b := &bucket{windows: make([]window, len(limits))}
	for i, l := range limits {
		b.windows[i] = window{limit: l}
	}
	return b
}

// quota is what the x-sib-ratelimit-* headers report.
type quota struct {
	limit, remaining int
	reset            time.Duration
}

// take spends one request if every window has room. It reports the binding
// window: on refusal the exhausted window that resets last, otherwise the one
// with the fewest requests left (the shortest on a tie), since that is the one a
// client must pace itself on.
func (b *bucket) take(now time.Time) (quota, bool) {
	var refused *window
	for i := range b.windows {
		w := &b.windows[i]
		if !now.Before(w.start.Add(w.period)) || now.Before(w.start) {
			w.start, w.used = now.Truncate(w.period), 0
		}
		if w.used >= w.max && (refused == nil || w.start.Add(w.period).After(refused.start.Add(refused.period))) {
			refused = w
		}
	}
	if refused != nil {
		return quotaOf(refused, now), false
	}
	best := &b.windows[0]
	for i := range b.windows {
		w := &b.windows[i]
		w.used++
		if w.max-w.used < best.max-best.used {
			best = w
		}
	}
	return quotaOf(best, now), true
}

func quotaOf(w *window, now time.Time) quota {
	return quota{limit: w.max, remaining: w.max - w.used, reset: w.start.Add(w.period).Sub(now)}
}

// setHeaders writes the headers Brevo sends; reset is whole seconds, rounded up so
// that a client waiting that long always lands in the next window.
func (q quota) setHeaders(h http.Header) {
	h.Set("x-sib-ratelimit-limit", strconv.Itoa(q.limit))
	h.Set("x-sib-ratelimit-remaining", strconv.Itoa(q.remaining))
	secs := (q.reset + time.Second - 1) / time.Second
	h.Set("x-sib-ratelimit-reset", strconv.FormatInt(int64(secs), 10))
}
