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
	maxTrackObjects    = 75
	maxDataSeriesDays  = 100
	maxCanvasSeries    = 14
)

// routePermissions registers the endpoints of the page's permissions that
// the connector does not sync yet. They check keys and budgets as Braze
// does and validate what they are sent; the workspace they describe has
// sent no message and has no Canvas or catalog, so the reads answer zeros
// and empty lists, and the writes (which the simulator does not apply)
// answer 501 once valid.
func (s *Server) routePermissions() {
	s.buckets[bucketUsersTrack] = &bucket{limit: 3000, window: 3 * time.Second}
	s.buckets[bucketDataSeries] = &bucket{limit: 50_000, window: time.Minute}
	s.buckets[bucketSubscription] = &bucket{limit: 5000, window: time.Minute}
	campaigns := map[string]bool{}
	for _, c := range campaignCatalog() {
		campaigns[c.id] = true
	}
	s.mux.Handle("POST /users/track", s.api(PermUsersTrack, bucketUsersTrack, s.usersTrack))
	s.mux.Handle("GET /campaigns/data_series", s.api(PermCampaignsDataSeries, bucketDataSeries, func(w http.ResponseWriter, r *http.Request) {
		dataSeries(w, r, "campaign_id", campaigns, maxDataSeriesDays, func(day string) any {
			return map[string]any{"time": day, "messages": map[string]any{}, "conversions": 0, "revenue": 0, "unique_recipients": 0}
		})
	}))
	s.mux.Handle("GET /canvas/list", s.api(PermCanvasList, bucketDefault, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"canvases": []any{}, "message": "success"})
	}))
	s.mux.Handle("GET /canvas/data_series", s.api(PermCanvasDataSeries, bucketDefault, func(w http.ResponseWriter, r *http.Request) {
		dataSeries(w, r, "canvas_id", nil, maxCanvasSeries, nil) // no Canvas: every id is unknown
	}))
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

// trackError is one refused object of a /users/track request.
type trackError struct {
	Type       string `json:"type"`
	InputArray string `json:"input_array"`
	Index      int    `json:"index"`
}

// usersTrack serves POST /users/track as far as validation: at most 75
// objects in all, each naming its user by external_id, user_alias,
// braze_id, email or phone. A request with no valid object is refused as
// Braze refuses it (400, "Valid data must be provided ..."), so it writes
// nothing; a valid one is not applied by the simulator (501).
func (s *Server) usersTrack(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Attributes []map[string]any `json:"attributes"`
		Events     []map[string]any `json:"events"`
		Purchases  []map[string]any `json:"purchases"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if len(req.Attributes)+len(req.Events)+len(req.Purchases) > maxTrackObjects {
		writeError(w, http.StatusBadRequest, "Max Input Length Exceeded", "at most 75 objects in attributes, events and purchases together")
		return
	}
	var errs []trackError
	valid := 0
	for _, arr := range []struct {
		name string
		objs []map[string]any
	}{{"attributes", req.Attributes}, {"events", req.Events}, {"purchases", req.Purchases}} {
		for k, o := range arr.objs {
			if identified(o) {
				valid++
				continue
			}
			errs = append(errs, trackError{Type: "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required", InputArray: arr.name, Index: k})
		}
	}
	if valid == 0 {
		if errs == nil {
			errs = []trackError{}
		}
		writeJSON(w, http.StatusBadRequest, struct {
			Message string       `json:"message"`
			Errors  []trackError `json:"errors"`
		}{"Valid data must be provided in the 'attributes', 'events', or 'purchases' fields.", errs})
		return
	}
	notApplied(w, "/users/track")
}

func identified(o map[string]any) bool {
	for _, k := range []string{"external_id", "user_alias", "braze_id", "email", "phone"} {
		if v, ok := o[k]; ok && v != nil && v != "" {
			return true
		}
	}
	return false
}

// emailStatus serves POST /email/status as far as validation: email (one
// address or up to 50) and subscription_state subscribed, unsubscribed or
// opted_in.
func (s *Server) emailStatus(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Email             any    `json:"email"`
		SubscriptionState string `json:"subscription_state"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	n := 0
	switch e := req.Email.(type) {
	case string:
		if e != "" {
			n = 1
		}
	case []any:
		n = len(e)
	}
	switch {
	case n == 0:
		writeError(w, http.StatusBadRequest, "Missing email", "email is required: an address or a list of up to 50")
	case n > 50:
		writeError(w, http.StatusBadRequest, "Max Input Length Exceeded", "at most 50 email addresses")
	case req.SubscriptionState != "subscribed" && req.SubscriptionState != "unsubscribed" && req.SubscriptionState != "opted_in":
		writeError(w, http.StatusBadRequest, "Invalid subscription_state: "+req.SubscriptionState, "subscription_state must be subscribed, unsubscribed or opted_in")
	default:
		notApplied(w, "/email/status")
	}
}

// subscriptionStatusSet serves POST /subscription/status/set as far as
// validation: a subscription group, subscribed or unsubscribed, and
// external_id, email or phone (email or phone, not both), 50 at most.
func (s *Server) subscriptionStatusSet(w http.ResponseWriter, r *http.Request) {
	var req struct {
		GroupID    string   `json:"subscription_group_id"`
		State      string   `json:"subscription_state"`
		ExternalID []string `json:"external_id"`
		Email      []string `json:"email"`
		Phone      []string `json:"phone"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	switch {
	case req.GroupID == "":
		writeError(w, http.StatusBadRequest, "Missing subscription_group_id", "subscription_group_id is required")
	case req.State != "subscribed" && req.State != "unsubscribed":
		writeError(w, http.StatusBadRequest, "Invalid subscription_state: "+req.State, "subscription_state must be subscribed or unsubscribed")
	case len(req.Email) > 0 && len(req.Phone) > 0:
		writeError(w, http.StatusBadRequest, "Invalid request", "give email or phone, not both")
	case len(req.ExternalID)+len(req.Email)+len(req.Phone) == 0:
		writeError(w, http.StatusBadRequest, "Missing users", "external_id, email or phone is required")
	case len(req.ExternalID) > 50 || len(req.Email) > 50 || len(req.Phone) > 50:
		writeError(w, http.StatusBadRequest, "Max Input Length Exceeded", "at most 50 users")
	default:
		notApplied(w, "/subscription/status/set")
	}
}

// notApplied answers a valid write the simulator does not model: saying
// so, rather than claiming a success that changed nothing.
func notApplied(w http.ResponseWriter, path string) {
	writeError(w, http.StatusNotImplemented, "Not simulated: the sandbox validates "+path+" but does not apply it",
		"change simulated users with POST /_admin/users/mutate")
}
