package braze

import (
	"fmt"
	"net/http"
	"strconv"
)

// AllUsersSegmentID is the segment every user belongs to.
const AllUsersSegmentID = "3c1f7a2e-9b4d-4e8a-a11a-55e7a11a55e7"

const segmentsPerPage = 100

type segment struct {
	id        string
	name      string
	tracking  bool
	tags      []string
	percent   int // share of users in it; 100: all
	archived  bool
	salt      uint64
	createdAt int // order of creation
}

// catalog builds the workspace's segments: "All Users", 120 others and the
// product page's engaged_users and dormant_users, so paging runs over two
// pages. It does not depend on the user seed: segment
// ids are what operators put in their configuration.
func catalog() []segment {
	audiences := []string{"VIP Customers", "Lapsed Buyers", "Push Opted In", "Newsletter Subscribers", "Cart Abandoners",
		"High LTV", "Trial Users", "Loyalty Gold", "Recent Signups", "Dormant 90d", "Frequent Shoppers", "Promo Responders"}
	qualifiers := []string{"", " - US", " - FR", " - DE", " - GB", " (iOS)", " (Android)", " - Q3 test", " [archived test]", " - EMEA"}
	tagSets := [][]string{nil, {"lifecycle"}, {"crm", "sync"}, {"growth"}, {"retention", "email"}}
	out := []segment{{id: AllUsersSegmentID, name: "All Users", tracking: true, tags: []string{"system"}, percent: 100}}
	for q, qual := range qualifiers {
		for a, aud := range audiences {
			k := q*len(audiences) + a
			h := mix(uint64(k) + 0x5e6)
			out = append(out, segment{
				id:        uuid(h),
				name:      aud + qual,
				tracking:  h%3 == 0,
				tags:      tagSets[h%uint64(len(tagSets))],
				percent:   1 + int(h>>8%60),
				archived:  qual == " [archived test]" && a%3 == 0,
				salt:      h,
				createdAt: k + 1,
			})
		}
	}
	// The product page's example config mirrors these two into lists.
	for k, page := range []struct {
		name    string
		percent int
	}{{"engaged_users", 35}, {"dormant_users", 20}} {
		h := mix(uint64(k) + 0xe9a6)
		out = append(out, segment{id: uuid(h), name: page.name, tracking: true, tags: []string{"lifecycle"},
			percent: page.percent, salt: h, createdAt: len(out)})
	}
	return out
}

// contains reports whether user i is in the segment: a fixed pseudo-random
// share of users, the same on every export.
func (sg *segment) contains(i int) bool {
	return sg.percent >= 100 || int(mix(sg.salt^uint64(i)*0x9E3779B97F4A7C15)%100) < sg.percent
}

func uuid(h uint64) string {
	l := mix(h ^ 0xfeed)
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", h>>32, h>>16&0xffff, h&0xfff, 0x8000|l>>48&0x3fff, l&0xffffffffffff)
}

// mix is the SplitMix64 finalizer.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// InSegment reports whether user i belongs to the segment; ok is false for an
// unknown segment. Tests use it to compute the expected list memberships.
func (s *Server) InSegment(segmentID string, i int) (in, ok bool) {
	k, ok := s.segIndex[segmentID]
	if !ok {
		return false, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return i >= 0 && i < s.cfg.Gen.N() && inSegment(&s.segments[k], s.moved[k], i), true
}

type segmentJSON struct {
	ID                       string   `json:"id"`
	Name                     string   `json:"name"`
	AnalyticsTrackingEnabled bool     `json:"analytics_tracking_enabled"`
	Tags                     []string `json:"tags"`
}

// listSegments serves GET /segments/list?page=N&sort_direction=asc|desc:
// 100 segments a page, 0-based, archived ones left out, by creation time.
// A page past the end is empty, so clients stop on a short page.
func (s *Server) listSegments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page := 0
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "Invalid page: "+p, "page must be a non-negative integer")
			return
		}
		page = n
	}
	desc := false
	switch d := q.Get("sort_direction"); d {
	case "", "asc":
	case "desc":
		desc = true
	default:
		writeError(w, http.StatusBadRequest, "Invalid sort_direction: "+d, "sort_direction must be asc or desc")
		return
	}
	live := make([]*segment, 0, len(s.segments))
	for k := range s.segments {
		if !s.segments[k].archived {
			live = append(live, &s.segments[k])
		}
	}
	if desc {
		for a, b := 0, len(live)-1; a < b; a, b = a+1, b-1 {
			live[a], live[b] = live[b], live[a]
		}
	}
	out := []segmentJSON{}
	for k := page * segmentsPerPage; k < len(live) && k < (page+1)*segmentsPerPage; k++ {
		sg := live[k]
		tags := sg.tags
		if tags == nil {
			tags = []string{}
		}
		out = append(out, segmentJSON{ID: sg.id, Name: sg.name, AnalyticsTrackingEnabled: sg.tracking, Tags: tags})
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "success", "segments": out})
}
