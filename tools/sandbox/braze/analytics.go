package braze

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Permissions of the analytics endpoints of this file (Braze's names).
const (
	PermCampaignsDetails = "campaigns.details"
	PermCanvasDetails    = "canvas.details"
)

// Kinds of what has analytics.
const (
	KindCampaign = "campaign"
	KindCanvas   = "canvas"
)

// canvasDef is one Canvas of the workspace.
type canvasDef struct {
	id, name   string
	tags       []string
	archived   bool
	lastEdited time.Time
	created    time.Time
	variants   []canvasPart
	steps      []canvasPart // with channel
}

type canvasPart struct{ id, name, channel string }

// canvasCatalog is the workspace's Canvases: three journeys of two
// variants and three steps each. Fixed, so ids stay stable across runs.
func canvasCatalog() []canvasDef {
	specs := []struct {
		name     string
		tags     []string
		archived bool
	}{
		{"Onboarding Journey", []string{"onboarding"}, false},
		{"Cart Recovery Flow", []string{"ecommerce", "retention"}, false},
		{"Holiday Countdown 2025", []string{"seasonal"}, true},
	}
	base := time.Date(2025, 4, 2, 10, 0, 0, 0, time.UTC)
	out := make([]canvasDef, len(specs))
	for k, sp := range specs {
		h := mix(uint64(k) + 0xca4a5)
		c := canvasDef{id: uuid(h), name: sp.name, tags: sp.tags, archived: sp.archived,
			created: base.Add(time.Duration(k) * 48 * time.Hour), lastEdited: base.Add(time.Duration(k)*48*time.Hour + 3*time.Hour)}
		for v, vn := range []string{"Variant A", "Variant B"} {
			c.variants = append(c.variants, canvasPart{id: uuid(mix(h + uint64(v) + 0x7a)), name: vn})
		}
		for st, def := range []struct{ name, channel string }{{"Welcome email", "email"}, {"Reminder push", "ios_push"}, {"Follow-up email", "email"}} {
			c.steps = append(c.steps, canvasPart{id: uuid(mix(h + uint64(st) + 0x57e9)), name: def.name, channel: def.channel})
		}
		out[k] = c
	}
	return out
}

// analyticsData is what the analytics endpoints serve: the campaigns and
// Canvases (edited by the admin routes) and the days restated since.
type analyticsData struct {
	campaigns []campaign
	canvases  []canvasDef
	// restated counts how often (kind, id, day) was restated: its figures
	// change with every restatement.
	restated map[string]int
}

func newAnalyticsData() *analyticsData {
	return &analyticsData{campaigns: campaignCatalog(), canvases: canvasCatalog(), restated: map[string]int{}}
}

// campaignsNow is a copy of the campaigns as they stand.
func (s *Server) campaignsNow() []campaign {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.an.campaigns)
}

// routeAnalytics registers the campaign details and data series, the
// Canvas list, details and data series, and the admin routes that edit a
// campaign or Canvas and restate a day.
func (s *Server) routeAnalytics() {
	s.an = newAnalyticsData()
	s.mux.Handle("GET /campaigns/details", s.api(PermCampaignsDetails, bucketDefault, s.campaignDetails))
	s.mux.Handle("GET /campaigns/data_series", s.api(PermCampaignsDataSeries, bucketDataSeries, s.campaignDataSeries))
	s.mux.Handle("GET /canvas/list", s.api(PermCanvasList, bucketDefault, s.listCanvases))
	s.mux.Handle("GET /canvas/details", s.api(PermCanvasDetails, bucketDefault, s.canvasDetails))
	s.mux.Handle("GET /canvas/data_series", s.api(PermCanvasDataSeries, bucketDefault, s.canvasDataSeries))
	s.mux.Handle("POST /_admin/analytics/restate", loopbackOnly(s.adminRestate))
	s.mux.Handle("POST /_admin/analytics/edit", loopbackOnly(s.adminEdit))
}

// today is the simulator's current day.
func (s *Server) today() time.Time { return s.cfg.Now().UTC().Truncate(24 * time.Hour) }

// activeDays are the days a campaign (index k of the catalog) or Canvas
// sends on, relative to today: from 10+3k days ago; archived ones stopped
// ten days after they started.
func activeDays(today time.Time, k int, archived bool) (first, last time.Time) {
	first = today.AddDate(0, 0, -(10 + 3*k))
	last = today
	if archived {
		last = first.AddDate(0, 0, 10)
	}
	return first, last
}

func (s *Server) findCampaign(id string) (int, campaign, bool) {
	for k, c := range s.an.campaigns {
		if c.id == id {
			return k, c, true
		}
	}
	return 0, campaign{}, false
}

func (s *Server) findCanvas(id string) (int, canvasDef, bool) {
	for k, c := range s.an.canvases {
		if c.id == id {
			return k, c, true
		}
	}
	return 0, canvasDef{}, false
}

// channelsOf a campaign: push ones send on iOS and Android, the others by
// email.
func channelsOf(c campaign) []string {
	if slices.Contains(c.tags, "push") {
		return []string{"ios_push", "android_push"}
	}
	return []string{"email"}
}

func dayString(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func (s *Server) campaignDetails(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("campaign_id")
	s.mu.Lock()
	k, c, ok := s.findCampaign(id)
	today := s.today()
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid campaign_id: "+id, "no such campaign")
		return
	}
	first, last := activeDays(today, k, c.archived)
	msgs := map[string]any{}
	for v, ch := range channelsOf(c) {
		msgs[uuid(mix(uint64(k)*31+uint64(v)+0x3e55))] = map[string]any{"channel": ch, "name": fmt.Sprintf("Variation %d", v+1)}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"message": "success", "created_at": c.lastEdited.Add(-24 * time.Hour).Format(time.RFC3339),
		"updated_at": c.lastEdited.Format(time.RFC3339), "archived": c.archived, "draft": false,
		"name": c.name, "description": "", "schedule_type": "time_based", "channels": channelsOf(c),
		"first_sent": first.Add(9 * time.Hour).Format(time.RFC3339), "last_sent": last.Add(9 * time.Hour).Format(time.RFC3339),
		"tags": c.tags, "teams": []string{}, "messages": msgs, "conversion_behaviors": []any{},
	})
}

// seriesRange reads length (1..maxLen) or starting_at, and ending_at
// (default now): the days asked for, oldest first.
func (s *Server) seriesRange(w http.ResponseWriter, r *http.Request, maxLen int) ([]time.Time, bool) {
	q := r.URL.Query()
	end := s.cfg.Now().UTC()
	if e := q.Get("ending_at"); e != "" {
		t, err := parseEditTime(e)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Invalid ending_at: "+e, "use an ISO 8601 time such as 2020-06-28T23:59:59-05:00")
			return nil, false
		}
		end = t.UTC()
	}
	end = end.Truncate(24 * time.Hour)
	n := 0
	switch {
	case q.Get("length") != "":
		v, err := strconv.Atoi(q.Get("length"))
		if err != nil || v < 1 || v > maxLen {
			writeError(w, http.StatusBadRequest, "Invalid length: "+q.Get("length"), "length must be an integer from 1 to "+strconv.Itoa(maxLen))
			return nil, false
		}
		n = v
	case q.Get("starting_at") != "":
		t, err := parseEditTime(q.Get("starting_at"))
		if err != nil || t.After(end.Add(24*time.Hour)) {
			writeError(w, http.StatusBadRequest, "Invalid starting_at: "+q.Get("starting_at"), "use an ISO 8601 time before ending_at")
			return nil, false
		}
		n = int(end.Sub(t.UTC().Truncate(24*time.Hour))/(24*time.Hour)) + 1
		if n > maxLen {
			writeError(w, http.StatusBadRequest, "Invalid starting_at: "+q.Get("starting_at"), "at most "+strconv.Itoa(maxLen)+" days")
			return nil, false
		}
	default:
		writeError(w, http.StatusBadRequest, "Invalid length: ", "length must be an integer from 1 to "+strconv.Itoa(maxLen))
		return nil, false
	}
	days := make([]time.Time, 0, n)
	for k := n - 1; k >= 0; k-- {
		days = append(days, end.AddDate(0, 0, -k))
	}
	return days, true
}

func (s *Server) campaignDataSeries(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("campaign_id")
	if id == "" {
		writeError(w, http.StatusBadRequest, "Missing campaign_id", "campaign_id is required")
		return
	}
	days, ok := s.seriesRange(w, r, maxDataSeriesDays)
	if !ok {
		return
	}
	s.mu.Lock()
	_, _, known := s.findCampaign(id)
	s.mu.Unlock()
	if !known {
		writeError(w, http.StatusBadRequest, "Invalid campaign_id: "+id, "no such campaign")
		return
	}
	out := make([]any, 0, len(days))
	for _, d := range days {
		out = append(out, s.AnalyticsDay(KindCampaign, id, d))
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "success", "data": out})
}

// AnalyticsDay is the data_series entry of (kind, id) for day d, exactly
// as served: for a campaign {time, messages{channel: [stats]},
// conversions, revenue, unique_recipients}; for a Canvas {time,
// total_stats, variant_stats, step_stats}. Outside the days it sends on,
// every figure is 0. Nil for an unknown id.
func (s *Server) AnalyticsDay(kind, id string, d time.Time) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	today := s.today()
	d = d.UTC().Truncate(24 * time.Hour)
	ver := s.an.restated[kind+"/"+id+"/"+dayString(d)]
	seed := func(salt uint64) uint64 {
		return mix(uint64(d.Unix()/86400)*0x9e3779b97f4a7c15 ^ hashString(id) ^ salt ^ uint64(ver)*0x5bd1e995)
	}
	switch kind {
	case KindCampaign:
		k, c, ok := s.findCampaign(id)
		if !ok {
			return nil
		}
		first, last := activeDays(today, k, c.archived)
		active := !d.Before(first) && !d.After(last)
		msgs := map[string]any{}
		var recipients int64
		for v, ch := range channelsOf(c) {
			st := messageStats(ch, seed(uint64(v)+1), active)
			st["variation_name"] = fmt.Sprintf("Variation %d", v+1)
			msgs[ch] = []any{st}
			recipients += st["sent"].(int64)
		}
		conv, rev := conversions(seed(0xc0), active)
		return map[string]any{"time": dayString(d), "messages": msgs, "conversions": conv, "revenue": rev,
			"unique_recipients": recipients, "conversions_by_send_time": conv}
	case KindCanvas:
		k, c, ok := s.findCanvas(id)
		if !ok {
			return nil
		}
		first, last := activeDays(today, k+2, c.archived)
		active := !d.Before(first) && !d.After(last)
		total := map[string]any{"revenue": 0.0, "conversions": int64(0), "conversions_by_entry_time": int64(0), "entries": int64(0)}
		variants := map[string]any{}
		for v, vd := range c.variants {
			conv, rev := conversions(seed(0x7a+uint64(v)), active)
			entries := int64(0)
			if active {
				entries = 50 + int64(seed(0xe0+uint64(v))%400)
			}
			variants[vd.id] = map[string]any{"name": vd.name, "revenue": rev, "conversions": conv, "conversions_by_entry_time": conv, "entries": entries}
			total["revenue"] = round2(total["revenue"].(float64) + rev)
			total["conversions"] = total["conversions"].(int64) + conv
			total["conversions_by_entry_time"] = total["conversions_by_entry_time"].(int64) + conv
			total["entries"] = total["entries"].(int64) + entries
		}
		steps := map[string]any{}
		for st, sd := range c.steps {
			conv, rev := conversions(seed(0x5e+uint64(st)), active)
			steps[sd.id] = map[string]any{"name": sd.name, "revenue": rev, "conversions": conv, "conversions_by_entry_time": conv,
				"messages": map[string]any{sd.channel: []any{messageStats(sd.channel, seed(0x9a+uint64(st)), active)}}}
		}
		return map[string]any{"time": dayString(d), "total_stats": total, "variant_stats": variants, "step_stats": steps}
	}
	return nil
}

// messageStats are one message's figures of a day on channel.
func messageStats(channel string, h uint64, active bool) map[string]any {
	if !active {
		h = 0
	}
	sent := int64(0)
	if active {
		sent = 200 + int64(h%800)
	}
	bounces := sent * int64(h>>10%4) / 100
	switch channel {
	case "email":
		delivered := sent - bounces
		uopens := delivered * int64(20+h>>16%20) / 100
		uclicks := uopens * int64(5+h>>24%10) / 100
		return map[string]any{"sent": sent, "delivered": delivered, "bounces": bounces,
			"opens": uopens + int64(h>>32%40)*sent/1000, "unique_opens": uopens,
			"clicks": uclicks + int64(h>>40%10), "unique_clicks": uclicks,
			"unsubscribes": int64(h >> 48 % 5), "reported_spam": int64(h >> 52 % 2)}
	default: // push
		direct := (sent - bounces) * int64(3+h>>16%8) / 100
		return map[string]any{"sent": sent, "bounces": bounces, "direct_opens": direct,
			"total_opens": direct + int64(h>>24%30), "body_clicks": direct / 2}
	}
}

// conversions are a day's conversions and revenue.
func conversions(h uint64, active bool) (int64, float64) {
	if !active {
		return 0, 0
	}
	n := int64(h % 25)
	return n, round2(float64(n) * (10 + float64(h>>8%9000)/100))
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func hashString(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

type canvasListJSON struct {
	ID         string   `json:"id"`
	LastEdited string   `json:"last_edited"`
	Name       string   `json:"name"`
	Tags       []string `json:"tags"`
}

// listCanvases serves GET /canvas/list as GET /campaigns/list.
func (s *Server) listCanvases(w http.ResponseWriter, r *http.Request) {
	q, ok := parseListQuery(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	all := slices.Clone(s.an.canvases)
	s.mu.Unlock()
	out := []canvasListJSON{}
	for _, k := range q.pageOf(len(all), func(k int) (bool, time.Time) { return all[k].archived, all[k].lastEdited }) {
		c := all[k]
		out = append(out, canvasListJSON{ID: c.id, LastEdited: c.lastEdited.Format(time.RFC3339), Name: c.name, Tags: c.tags})
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "success", "canvases": out})
}

func (s *Server) canvasDetails(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("canvas_id")
	s.mu.Lock()
	k, c, ok := s.findCanvas(id)
	today := s.today()
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid canvas_id: "+id, "no such canvas")
		return
	}
	first, last := activeDays(today, k+2, c.archived)
	var variants, steps []map[string]any
	for _, v := range c.variants {
		variants = append(variants, map[string]any{"name": v.name, "id": v.id, "first_step_ids": []string{c.steps[0].id}})
	}
	for i, st := range c.steps {
		next := []string{}
		if i+1 < len(c.steps) {
			next = append(next, c.steps[i+1].id)
		}
		steps = append(steps, map[string]any{"name": st.name, "type": "message", "id": st.id, "next_step_ids": next,
			"next_paths": []any{}, "channels": []string{st.channel}, "messages": map[string]any{}})
	}
	var channels []string
	for _, st := range c.steps {
		if !slices.Contains(channels, st.channel) {
			channels = append(channels, st.channel)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"message": "success", "created_at": c.created.Format(time.RFC3339), "updated_at": c.lastEdited.Format(time.RFC3339),
		"name": c.name, "description": "", "archived": c.archived, "draft": false, "schedule_type": "action_based",
		"first_entry": first.Add(8 * time.Hour).Format(time.RFC3339), "last_entry": last.Add(8 * time.Hour).Format(time.RFC3339),
		"channels": channels, "variants": variants, "tags": c.tags, "teams": []string{}, "steps": steps,
	})
}

// canvasDataSeries serves GET /canvas/data_series: 1 to 14 days, with the
// variant and step breakdowns only when asked for.
func (s *Server) canvasDataSeries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := q.Get("canvas_id")
	if id == "" {
		writeError(w, http.StatusBadRequest, "Missing canvas_id", "canvas_id is required")
		return
	}
	days, ok := s.seriesRange(w, r, maxCanvasSeries)
	if !ok {
		return
	}
	flags := map[string]bool{}
	for _, f := range []string{"include_variant_breakdown", "include_step_breakdown", "include_deleted_step_data"} {
		if v := q.Get(f); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				writeError(w, http.StatusBadRequest, "Invalid "+f+": "+v, f+" must be true or false")
				return
			}
			flags[f] = b
		}
	}
	s.mu.Lock()
	_, c, known := s.findCanvas(id)
	s.mu.Unlock()
	if !known {
		writeError(w, http.StatusBadRequest, "Invalid canvas_id: "+id, "no such canvas")
		return
	}
	stats := make([]any, 0, len(days))
	for _, d := range days {
		day := s.AnalyticsDay(KindCanvas, id, d)
		if !flags["include_variant_breakdown"] {
			delete(day, "variant_stats")
		}
		if !flags["include_step_breakdown"] {
			delete(day, "step_stats")
		}
		stats = append(stats, day)
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "success", "data": map[string]any{"name": c.name, "stats": stats}})
}

// Restate changes the figures Braze reports for (kind, id) on day d, as
// Braze does for recent days once late events arrive.
func (s *Server) Restate(kind, id string, d time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, _, ok := s.findCampaign(id); kind == KindCampaign && !ok {
		return fmt.Errorf("no campaign %s", id)
	}
	if _, _, ok := s.findCanvas(id); kind == KindCanvas && !ok {
		return fmt.Errorf("no Canvas %s", id)
	}
	if kind != KindCampaign && kind != KindCanvas {
		return fmt.Errorf("kind %q: campaign or canvas", kind)
	}
	s.an.restated[kind+"/"+id+"/"+dayString(d)]++
	return nil
}

// Rename renames a campaign or Canvas, which makes it edited now.
func (s *Server) Rename(kind, id, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now().UTC()
	switch kind {
	case KindCampaign:
		if k, _, ok := s.findCampaign(id); ok {
			s.an.campaigns[k].name, s.an.campaigns[k].lastEdited = name, now
			return nil
		}
	case KindCanvas:
		if k, _, ok := s.findCanvas(id); ok {
			s.an.canvases[k].name, s.an.canvases[k].lastEdited = name, now
			return nil
		}
	}
	return fmt.Errorf("no %s %s", kind, id)
}

// Tracked lists the ids of every campaign and Canvas, archived included.
func (s *Server) Tracked() (campaigns, canvases []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.an.campaigns {
		campaigns = append(campaigns, c.id)
	}
	for _, c := range s.an.canvases {
		canvases = append(canvases, c.id)
	}
	return campaigns, canvases
}

// adminRestate serves POST /_admin/analytics/restate {kind, id, day}.
func (s *Server) adminRestate(w http.ResponseWriter, r *http.Request) {
	var req struct{ Kind, ID, Day string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "want {\"kind\": \"campaign\"|\"canvas\", \"id\": ..., \"day\": \"YYYY-MM-DD\"}")
		return
	}
	d, err := time.Parse(time.DateOnly, req.Day)
	if err == nil {
		err = s.Restate(strings.ToLower(req.Kind), req.ID, d)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s.AnalyticsDay(strings.ToLower(req.Kind), req.ID, d))
}

// adminEdit serves POST /_admin/analytics/edit {kind, id, name}.
func (s *Server) adminEdit(w http.ResponseWriter, r *http.Request) {
	var req struct{ Kind, ID, Name string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil || req.Name == "" {
		writeError(w, http.StatusBadRequest, "want {\"kind\": \"campaign\"|\"canvas\", \"id\": ..., \"name\": ...}")
		return
	}
	if err := s.Rename(strings.ToLower(req.Kind), req.ID, req.Name); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
