package braze

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const campaignsPerPage = 100

type campaign struct {
	id         string
	name       string
	api        bool
	tags       []string
	archived   bool
	lastEdited time.Time
}

// campaignCatalog is the workspace's campaigns, in creation order: a
// marketing team's usual mix, two of them archived. Fixed (not drawn from the
// user seed) so that ids stay stable across runs.
func campaignCatalog() []campaign {
	specs := []struct {
		name     string
		api      bool
		tags     []string
		archived bool
	}{
		{"Welcome Series - Email 1", false, []string{"onboarding", "email"}, false},
		{"Welcome Series - Email 2", false, []string{"onboarding", "email"}, false},
		{"Password Reset (transactional)", true, []string{"transactional"}, false},
		{"Order Confirmation", true, []string{"transactional", "ecommerce"}, false},
		{"Black Friday 2025 - Early Access", false, []string{"promo", "seasonal"}, true},
		{"Cart Abandonment Reminder", false, []string{"ecommerce", "retention"}, false},
		{"Win-back 90 days", false, []string{"retention"}, false},
		{"Spring Sale Push", false, []string{"promo", "push"}, false},
		{"Loyalty Gold Upgrade", false, []string{"loyalty"}, false},
		{"App Update Announcement", false, []string{"product", "push"}, true},
		{"Weekly Newsletter", false, []string{"newsletter", "email"}, false},
		{"Shipping Update (API)", true, []string{"transactional"}, false},
	}
	base := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	out := make([]campaign, len(specs))
	for k, sp := range specs {
		h := mix(uint64(k) + 0xca3)
		out[k] = campaign{
			id: uuid(h), name: sp.name, api: sp.api, tags: sp.tags, archived: sp.archived,
			lastEdited: base.Add(time.Duration(k)*36*time.Hour + time.Duration(h%3600)*time.Second),
		}
	}
	return out
}

type campaignJSON struct {
	ID            string   `json:"id"`
	LastEdited    string   `json:"last_edited"`
	Name          string   `json:"name"`
	IsAPICampaign bool     `json:"is_api_campaign"`
	Tags          []string `json:"tags"`
}

// routeCampaigns registers GET /campaigns/list over the workspace's
// campaigns (which analytics.go's admin routes may edit).
func (s *Server) routeCampaigns() {
	s.mux.Handle("GET /campaigns/list", s.api(PermCampaignsList, bucketDefault, func(w http.ResponseWriter, r *http.Request) {
		listCampaigns(w, r, s.campaignsNow())
	}))
}

// listQuery is what a /campaigns/list or /canvas/list request asks for.
type listQuery struct {
	page     int
	archived bool
	desc     bool
	after    time.Time
}

// parseListQuery reads page, include_archived, sort_direction and
// last_edit.time[gt], answering 400 itself when one is invalid.
func parseListQuery(w http.ResponseWriter, r *http.Request) (listQuery, bool) {
	q := r.URL.Query()
	var lq listQuery
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "Invalid page: "+p, "page must be a non-negative integer")
			return lq, false
		}
		lq.page = n
	}
	if a := q.Get("include_archived"); a != "" {
		b, err := strconv.ParseBool(a)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Invalid include_archived: "+a, "include_archived must be true or false")
			return lq, false
		}
		lq.archived = b
	}
	switch d := q.Get("sort_direction"); d {
	case "", "asc":
	case "desc":
		lq.desc = true
	default:
		writeError(w, http.StatusBadRequest, "Invalid sort_direction: "+d, "sort_direction must be asc or desc")
		return lq, false
	}
	if t := q.Get("last_edit.time[gt]"); t != "" {
		parsed, err := parseEditTime(t)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Invalid last_edit.time[gt]: "+t, "use an ISO 8601 time such as 2020-06-28T23:59:59-05:00")
			return lq, false
		}
		lq.after = parsed
	}
	return lq, true
}

// pageOf picks the page of the n items (in creation order) that q asks
// for: keep says whether item k is archived and when it was last edited.
func (q listQuery) pageOf(n int, item func(k int) (archived bool, edited time.Time)) []int {
	var picked []int
	for k := range n {
		archived, edited := item(k)
		if (q.archived || !archived) && edited.After(q.after) {
			picked = append(picked, k)
		}
	}
	if q.desc {
		slices.Reverse(picked)
	}
	var out []int
	for k := q.page * campaignsPerPage; k < len(picked) && k < (q.page+1)*campaignsPerPage; k++ {
		out = append(out, picked[k])
	}
	return out
}

// listCampaigns serves GET /campaigns/list?page=N&include_archived&
// sort_direction&last_edit.time[gt]: 100 a page (0-based) by creation time,
// archived ones only on request. It only reads.
func listCampaigns(w http.ResponseWriter, r *http.Request, all []campaign) {
	q, ok := parseListQuery(w, r)
	if !ok {
		return
	}
	out := []campaignJSON{}
	for _, k := range q.pageOf(len(all), func(k int) (bool, time.Time) { return all[k].archived, all[k].lastEdited }) {
		c := all[k]
		out = append(out, campaignJSON{
			ID: c.id, LastEdited: c.lastEdited.Format(time.RFC3339), Name: c.name, IsAPICampaign: c.api, Tags: c.tags,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "success", "campaigns": out})
}

// parseEditTime accepts the ISO 8601 forms Braze documents for
// last_edit.time[gt]: "yyyy-MM-DDTHH:mm:ss" (UTC), optionally with fractional
// seconds, and with a zone: Z, ±hh:mm, ±hhmm, ±hh, or the one-digit hour of
// Braze's own example (2020-06-28T23:59:59-5:00). A "+" sent unencoded
// arrives as a space; it is read as the plus it was. Go's layouts cannot say
// "one or two hour digits", so the zone is read by hand.
func parseEditTime(s string) (time.Time, error) {
	bad := fmt.Errorf("last_edit.time[gt] %q is not an ISO 8601 date-time (yyyy-MM-DDTHH:mm:ss, optionally with a zone)", s)
	const local = len("2006-01-02T15:04:05")
	if len(s) < local {
		return time.Time{}, bad
	}
	end := local
	if end < len(s) && s[end] == '.' {
		end++
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
	}
	t, err := time.Parse("2006-01-02T15:04:05.999999999", s[:end])
	if err != nil {
		return time.Time{}, bad
	}
	zone := s[end:]
	switch {
	case zone == "" || zone == "Z" || zone == "z":
		return t, nil
	case zone[0] != '+' && zone[0] != '-' && zone[0] != ' ':
		return time.Time{}, bad
	}
	hh, mm, ok := zoneOffset(zone[1:])
	if !ok {
		return time.Time{}, bad
	}
	offset := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute
	if zone[0] == '-' {
		offset = -offset
	}
	// A local time at +hh:mm is that much ahead of UTC.
	return t.Add(-offset), nil
}

// zoneOffset reads h, hh, h:mm, hh:mm or hhmm.
func zoneOffset(z string) (hours, minutes int, ok bool) {
	h, m, hasColon := strings.Cut(z, ":")
	if !hasColon && len(z) == 4 {
		h, m = z[:2], z[2:]
	}
	if len(h) < 1 || len(h) > 2 || (m != "" && len(m) != 2) || (hasColon && m == "") {
		return 0, 0, false
	}
	hours, err1 := strconv.Atoi(h)
	if m == "" {
		m = "00"
	}
	minutes, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hours > 14 || minutes > 59 || strings.ContainsAny(h+m, "+- ") {
		return 0, 0, false
	}
	return hours, minutes, true
}
