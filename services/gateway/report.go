package gateway

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/analytics"
)

// report serves GET /v1/connectors/braze/report?since&until&format: the
// campaign and Canvas analytics of the period beside Brevo's email
// campaign statistics, as `tajo connectors report braze` prints them
// (format json, the default, or csv). It reads the analytics bucket, so it
// needs no pipeline in this process.
func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var from, to time.Time
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &from}, {"until", &to}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", p.name+" must be a date such as 2026-11-01")
			return
		}
		*p.t = t
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		writeError(w, http.StatusBadRequest, "bad_request", "until is before since")
		return
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		writeError(w, http.StatusBadRequest, "bad_request", "format must be json or csv")
		return
	}
	var rep analytics.Report
	store, err := analytics.Open(r.Context(), s.js)
	switch {
	case errors.Is(err, jetstream.ErrBucketNotFound):
		// Nothing was ever read: an empty report.
		rep = analytics.Report{Since: q.Get("since"), Until: q.Get("until"), Rows: []analytics.Row{},
			Totals: map[string]analytics.Figures{analytics.SourceBraze: {}}}
		if rep.Until == "" {
			rep.Until = time.Now().UTC().Format(time.DateOnly)
		}
	case err != nil:
		s.unavailable(w, "reading the analytics", err)
		return
	default:
		if rep, err = analytics.Build(r.Context(), store, from, to); err != nil {
			s.unavailable(w, "reading the analytics", err)
			return
		}
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_ = rep.WriteCSV(w, func(s string) string { return s })
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// unavailable answers 503 for a bus that cannot be read now.
func (s *Server) unavailable(w http.ResponseWriter, doing string, err error) {
	s.log.Warn("control API read failed", "doing", doing, "err", err)
	msg := doing + " failed: " + err.Error()
	if i := strings.IndexByte(msg, '\n'); i > 0 {
		msg = msg[:i]
	}
	writeError(w, http.StatusServiceUnavailable, "unavailable", msg)
}
