package brevo

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// EmailCampaign is one email campaign of the simulated account, with its
// global statistics (GET /emailCampaigns?statistics=globalStats).
type EmailCampaign struct {
	ID       int64       `json:"id"`
	Name     string      `json:"name"`
	Subject  string      `json:"subject"`
	Status   string      `json:"status"` // sent | draft
	SentDate string      `json:"sentDate,omitempty"`
	Stats    GlobalStats `json:"-"`
}

// GlobalStats are a campaign's globalStats.
type GlobalStats struct {
	UniqueClicks       int64   `json:"uniqueClicks"`
	Clickers           int64   `json:"clickers"`
	Complaints         int64   `json:"complaints"`
	Delivered          int64   `json:"delivered"`
	Sent               int64   `json:"sent"`
	SoftBounces        int64   `json:"softBounces"`
	HardBounces        int64   `json:"hardBounces"`
	UniqueViews        int64   `json:"uniqueViews"`
	TrackableViews     int64   `json:"trackableViews"`
	TrackableViewsRate float64 `json:"trackableViewsRate"`
	EstimatedViews     int64   `json:"estimatedViews"`
	Unsubscriptions    int64   `json:"unsubscriptions"`
	Viewed             int64   `json:"viewed"`
}

// emailCampaigns are the account's email campaigns, sent days ago
// relative to now (one is a draft): fixed, so that figures stay stable.
func emailCampaigns(now time.Time) []EmailCampaign {
	specs := []struct {
		name    string
		daysAgo int // -1: a draft
	}{
		{"EN - Summer Sale", 2}, {"Weekly digest #41", 5}, {"Product launch: Trail Runner", 9},
		{"Weekly digest #40", 15}, {"Win-back offer", 22}, {"Spring collection", 40}, {"Black Friday teaser", -1},
	}
	out := make([]EmailCampaign, len(specs))
	for i, sp := range specs {
		h := uint64(i+1) * 0x9e3779b97f4a7c15
		h ^= h >> 29
		c := EmailCampaign{ID: int64(10 + i), Name: sp.name, Subject: sp.name, Status: "draft"}
		if sp.daysAgo >= 0 {
			c.Status = "sent"
			c.SentDate = now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -sp.daysAgo).Add(10 * time.Hour).Format("2006-01-02T15:04:05.000Z")
			sent := 2000 + int64(h%18000)
			soft, hard := sent*int64(h>>8%3)/100, sent*int64(h>>12%2)/100
			delivered := sent - soft - hard
			uv := delivered * int64(20+h>>16%25) / 100
			uc := uv * int64(5+h>>24%15) / 100
			c.Stats = GlobalStats{Sent: sent, Delivered: delivered, SoftBounces: soft, HardBounces: hard,
				UniqueViews: uv, Viewed: uv + uv/3, TrackableViews: uv * 9 / 10, EstimatedViews: uv / 10,
				UniqueClicks: uc, Clickers: uc + uc/4, Unsubscriptions: int64(h >> 32 % 40), Complaints: int64(h >> 40 % 3)}
			if delivered > 0 {
				c.Stats.TrackableViewsRate = float64(c.Stats.TrackableViews*10000/delivered) / 100
			}
		}
		out[i] = c
	}
	return out
}

// EmailCampaigns returns the account's email campaigns, newest first.
func (s *Server) EmailCampaigns() []EmailCampaign {
	out := emailCampaigns(s.cfg.Now())
	slices.Reverse(out)
	return out
}

// listEmailCampaigns serves GET /emailCampaigns?type&status&statistics
// &startDate&endDate&limit (≤ 100)&offset&sort&excludeHtmlContent.
func (s *Server) listEmailCampaigns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, e := queryInt(r, "limit", 50, 0, 100)
	if e != nil {
		writeError(w, e)
		return
	}
	offset, e := queryInt(r, "offset", 0, 0, 1<<31-1)
	if e != nil {
		writeError(w, e)
		return
	}
	asc, e := querySort(r)
	if e != nil {
		writeError(w, e)
		return
	}
	status := q.Get("status")
	if status != "" && !slices.Contains([]string{"suspended", "archive", "sent", "queued", "draft", "inProcess"}, status) {
		writeError(w, badRequest("status should be one of suspended, archive, sent, queued, draft, inProcess"))
		return
	}
	if t := q.Get("type"); t != "" && t != "classic" && t != "trigger" {
		writeError(w, badRequest("type should be classic or trigger"))
		return
	}
	stats := q.Get("statistics")
	if stats != "" && stats != "globalStats" && stats != "linksStats" && stats != "statsByDomain" {
		writeError(w, badRequest("statistics should be one of globalStats, linksStats, statsByDomain"))
		return
	}
	var start, end time.Time
	if sd, ed := q.Get("startDate"), q.Get("endDate"); sd != "" || ed != "" {
		var err1, err2 error
		start, err1 = time.Parse(time.RFC3339Nano, sd)
		end, err2 = time.Parse(time.RFC3339Nano, ed)
		if err1 != nil || err2 != nil || end.Before(start) {
			writeError(w, badRequest("startDate and endDate go together, as UTC date-times (YYYY-MM-DDTHH:mm:ss.SSSZ), startDate first"))
			return
		}
	}
	all := emailCampaigns(s.cfg.Now()) // oldest first
	if !asc {
		slices.Reverse(all)
	}
	var picked []map[string]any
	n := 0
	for _, c := range all {
		if status != "" && c.Status != status {
			continue
		}
		if !start.IsZero() {
			sent, err := time.Parse(time.RFC3339Nano, c.SentDate)
			if err != nil || sent.Before(start) || sent.After(end) {
				continue
			}
		}
		if int64(n) >= offset && int64(len(picked)) < limit {
			picked = append(picked, campaignJSON(c, stats, q.Get("excludeHtmlContent") == "true"))
		}
		n++
	}
	if picked == nil {
		picked = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaigns": picked, "count": n})
}

// campaignJSON is a campaign in getEmailCampaigns' shape.
func campaignJSON(c EmailCampaign, stats string, noHTML bool) map[string]any {
	html := "<html><body>" + c.Name + "</body></html>"
	if noHTML {
		html = ""
	}
	created := c.SentDate
	if created == "" {
		created = "2025-01-01T00:00:00.000Z"
	}
	m := map[string]any{
		"id": c.ID, "name": c.Name, "subject": c.Subject, "type": "classic", "status": c.Status,
		"scheduledAt": c.SentDate, "testSent": false, "header": "[DEFAULT_HEADER]", "footer": "[DEFAULT_FOOTER]",
		"sender":  map[string]any{"email": "news@example.com", "name": "Newsletter", "id": 1},
		"replyTo": "news@example.com", "toField": "", "htmlContent": html,
		"shareLink": fmt.Sprintf("https://example.invalid/share/%d", c.ID),
		"tag":       strings.Fields(c.Name)[0],
		"createdAt": created, "modifiedAt": created, "inlineImageActivation": false, "mirrorActive": false, "recurring": false,
		"recipients": map[string]any{"lists": []int{2}, "exclusionLists": []int{}},
	}
	if c.SentDate != "" {
		m["sentDate"] = c.SentDate
	}
	// The spec requires every part of statistics; those not asked for are
	// empty (globalStats zero).
	st := map[string]any{"mirrorClick": 0, "remaining": 0, "campaignStats": []any{}, "globalStats": GlobalStats{},
		"linksStats": map[string]any{}, "statsByDomain": map[string]any{}, "statsByDevice": map[string]any{}, "statsByBrowser": map[string]any{}}
	if stats == "" || stats == "globalStats" {
		st["globalStats"] = c.Stats
	}
	m["statistics"] = st
	return m
}
