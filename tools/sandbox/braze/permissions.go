package braze

import (
	"net/http"
	"strconv"
	"time"
)

// Permissions of the endpoints in this file. With those of server.go they
// are the twelve the product page tells users to give the connector's key
// (PagePermissions).
const (
	PermCampaignsDataSeries   = "campaigns.data_series"
	PermCanvasList            = "canvas.list"
	PermCanvasDataSeries      = "canvas.data_series"
	PermSegmentsDataSeries    = "segments.data_series"
	PermEmailStatus           = "email.status"
	PermSubscriptionStatusSet = "subscription.status.set"
	PermCatalogsListItems     = "catalogs.list_items"
	// PermUsersDelete is not among the page's twelve: only a connector
	// that propagates deletes needs it.
	PermUsersDelete = "users.delete"
)

// PagePermissions are the permissions the product page names for the
// connector's REST API key, in the page's order. AddKey(key,
// PagePermissions...) makes a key as the page says; leaving one out makes a
// key that lacks it.
var PagePermissions = []string{
	PermUsersTrack, PermUsersExportIDs, PermUsersExportSeg, PermCampaignsList, PermCampaignsDataSeries,
	PermCanvasList, PermCanvasDataSeries, PermSegmentsList, PermSegmentsDataSeries,
	PermEmailStatus, PermSubscriptionStatusSet, PermCatalogsListItems,
}

// Rate-limit buckets of the endpoints in this file (API notes).
const (
	bucketUsersTrack   = "users.track"
	bucketDataSeries   = "campaigns.data_series"
	bucketSubscription = "subscription.status.set"
	bucketCatalogSync  = "catalogs.synchronous"
	bucketIdentity     = "users.identity" // /users/delete, /users/alias/*, /users/identify, /users/merge
	maxTrackObjects    = 75
	maxDataSeriesDays  = 100
	maxCanvasSeries    = 14
)

// routePermissions registers the endpoints of the page's permissions
// beyond the exports, the analytics (analytics.go) and the catalogs
// (catalogs.go). They check keys and budgets as Braze does and validate
// what they are sent. The writes (/users/track, /email/status, /subscription/status/set,
// and /users/delete) are applied: see track.go.
func (s *Server) routePermissions() {
	s.buckets[bucketUsersTrack] = &bucket{limit: 3000, window: 3 * time.Second}
	s.buckets[bucketDataSeries] = &bucket{limit: 50_000, window: time.Minute}
	s.buckets[bucketSubscription] = &bucket{limit: 5000, window: time.Minute}
	s.mux.Handle("POST /users/track", s.api(PermUsersTrack, bucketUsersTrack, s.usersTrack))
	s.mux.Handle("GET /segments/data_series", s.api(PermSegmentsDataSeries, bucketDefault, func(w http.ResponseWriter, r *http.Request) {
		known := map[string]bool{}
		for id := range s.segIndex {
			known[id] = true
		}
		size := -1 // counted once, for the first day asked
		dataSeries(w, r, "segment_id", known, maxDataSeriesDays, func(day string) any {
			if size < 0 {
				size = s.segmentSize(r.URL.Query().Get("segment_id"))
			}
			return map[string]any{"time": day, "size": size}
		})
	}))
	s.mux.Handle("POST /email/status", s.api(PermEmailStatus, bucketDefault, s.emailStatus))
	s.mux.Handle("POST /subscription/status/set", s.api(PermSubscriptionStatusSet, bucketSubscription, s.subscriptionStatusSet))
	s.buckets[bucketIdentity] = &bucket{limit: 20_000, window: time.Minute}
	s.mux.Handle("POST /users/delete", s.api(PermUsersDelete, bucketIdentity, s.usersDelete))
}

// dataSeries serves a /…/data_series read: idParam must name a known id,
// length is 1..maxLen (ending_at, when given, is an ISO 8601 time), and the
// answer is one entry per day, oldest first.
func dataSeries(w http.ResponseWriter, r *http.Request, idParam string, known map[string]bool, maxLen int, day func(string) any) {
	q := r.URL.Query()
	id := q.Get(idParam)
	if id == "" {
		writeError(w, http.StatusBadRequest, "Missing "+idParam, idParam+" is required")
		return
	}
	n, err := strconv.Atoi(q.Get("length"))
	if err != nil || n < 1 || n > maxLen {
		writeError(w, http.StatusBadRequest, "Invalid length: "+q.Get("length"), "length must be an integer from 1 to "+strconv.Itoa(maxLen))
		return
	}
	end := time.Now().UTC()
	if e := q.Get("ending_at"); e != "" {
		t, err := parseEditTime(e)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Invalid ending_at: "+e, "use an ISO 8601 time such as 2020-06-28T23:59:59-05:00")
			return
		}
		end = t.UTC()
	}
	if !known[id] {
		writeError(w, http.StatusBadRequest, "Invalid "+idParam+": "+id, "no such "+idParam[:len(idParam)-3])
		return
	}
	out := make([]any, 0, n)
	for k := n - 1; k >= 0; k-- {
		out = append(out, day(end.AddDate(0, 0, -k).Format(time.DateOnly)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "success", "data": out})
}

// segmentSize counts the users of a segment.
func (s *Server) segmentSize(id string) int {
	sg := &s.segments[s.segIndex[id]]
	n := 0
	for i := range s.cfg.Gen.N() {
		if sg.contains(i) {
			n++
		}
	}
	return n
}
