package braze

import (
	"net/http"
	"strconv"
	"time"
)

// bucket is a fixed window aligned on the clock (Braze resets its hourly pool
// on the hour), counting requests across every key of the workspace.
type bucket struct {
	limit  int
	window time.Duration
	start  time.Time
	used   int
}

// take spends one request. It returns what the X-RateLimit-* headers report
// and whether the request is within the limit.
func (b *bucket) take(now time.Time) (remaining int, reset time.Time, ok bool) {
	start := now.UTC().Truncate(b.window)
	if !start.Equal(b.start) {
		b.start, b.used = start, 0
	}
	reset = start.Add(b.window)
	if b.used >= b.limit {
		return 0, reset, false
	}
	b.used++
	return b.limit - b.used, reset, true
}

// peek reports what take would, without spending a request.
func (b *bucket) peek(now time.Time) (remaining int, reset time.Time) {
	start := now.UTC().Truncate(b.window)
	if !start.Equal(b.start) {
		return b.limit, start.Add(b.window)
	}
	return max(b.limit-b.used, 0), start.Add(b.window)
}

// setRateLimitHeaders writes the X-RateLimit-* headers (reset in UTC epoch
// seconds), which Braze sends on every answer.
func setRateLimitHeaders(h http.Header, limit, remaining int, reset time.Time) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
}

// Rate-limit buckets. Everything the connector reads besides /users/export/ids
// shares the 250,000 requests/hour pool.
const (
	bucketDefault   = "default"
	bucketExportIDs = "users.export.ids"
)

// Limits are the request budgets the simulator enforces.
type Limits struct {
	// DefaultPerHour is the shared hourly pool of /segments/*,
	// /users/export/segment, /campaigns/* and the like. Default 250,000.
	DefaultPerHour int `yaml:"default_per_hour"`
	// ExportIDsPerMinute is the /users/export/ids budget. Default 250 (accounts
	// onboarded since 2024-08-22; older ones have 2,500).
	ExportIDsPerMinute int `yaml:"export_ids_per_minute"`
	// CatalogSyncPerMinute is the budget the synchronous catalog endpoints
	// share (GET /catalogs, GET /catalogs/{name}/items). Default 50.
	CatalogSyncPerMinute int `yaml:"catalog_sync_per_minute"`
}

func (l Limits) withDefaults() Limits {
	if l.DefaultPerHour <= 0 {
		l.DefaultPerHour = 250_000
	}
	if l.ExportIDsPerMinute <= 0 {
		l.ExportIDsPerMinute = 250
	}
	if l.CatalogSyncPerMinute <= 0 {
		l.CatalogSyncPerMinute = 50
	}
	return l
}
