package braze

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Mutate bumps the version of each user, as if someone edited their profile
// in Braze: the next export or look-up shows the change. Indices out of
// range are ignored.
func (s *Server) Mutate(indices ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, i := range indices {
		if i >= 0 && i < s.cfg.Gen.N() {
			s.versions[i]++
		}
	}
}

// Version is the current version of user i (0 until mutated).
func (s *Server) Version(i int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versions[i]
}

// ExportsStarted is how many segment exports were accepted.
func (s *Server) ExportsStarted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exportsStarted
}

// pickUsers chooses count distinct well-formed users from seed: a walk over
// the indices with a stride coprime to N visits each once, so no set of
// chosen users needs to be kept.
func (s *Server) pickUsers(count int, seed int64) []int {
	g := s.cfg.Gen
	n := g.N()
	if n == 0 || count <= 0 {
		return nil
	}
	h := mix(uint64(seed) ^ 0x6d757461)
	start := int(h % uint64(n))
	step := 1 + int(mix(h)%uint64(n))
	for gcd(step, n) != 1 {
		step++
	}
	out := make([]int, 0, min(count, n))
	for k := 0; k < n && len(out) < count; k++ {
		i := (start + k*step) % n
		if !g.Malformed(i, 0) {
			out = append(out, i)
		}
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

type mutateRequest struct {
	Count   int   `json:"count"`
	Seed    int64 `json:"seed"`
	Indices []int `json:"indices"`
}

type mutated struct {
	Index      int    `json:"index"`
	BrazeID    string `json:"braze_id"`
	ExternalID string `json:"external_id,omitempty"`
	Version    int    `json:"version"`
}

// adminMutate serves POST /_admin/users/mutate {"count":50,"seed":7} or
// {"indices":[1,2,3]}.
func (s *Server) adminMutate(w http.ResponseWriter, r *http.Request) {
	var req mutateRequest
	if !decodeBody(w, r, &req) {
		return
	}
	g := s.cfg.Gen
	indices := req.Indices
	switch {
	case len(indices) > 0 && req.Count > 0:
		writeError(w, http.StatusBadRequest, "Give either count or indices, not both")
		return
	case len(indices) > 0:
		for _, i := range indices {
			if i < 0 || i >= g.N() {
				writeError(w, http.StatusBadRequest, "Index out of range: "+strconv.Itoa(i), "indices must be in [0, "+strconv.Itoa(g.N())+")")
				return
			}
		}
		slices.Sort(indices)
		indices = slices.Compact(indices)
	case req.Count > 0:
		indices = s.pickUsers(req.Count, req.Seed)
	default:
		writeError(w, http.StatusBadRequest, "Nothing to mutate", "give count (with seed) or indices")
		return
	}
	s.Mutate(indices...)
	out := make([]mutated, len(indices))
	for k, i := range indices {
		ext, _ := g.ExternalID(i)
		out[k] = mutated{Index: i, BrazeID: g.BrazeID(i), ExternalID: ext, Version: s.Version(i)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"mutated": out})
}

// adminState serves GET /_admin/state.
func (s *Server) adminState(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	state := map[string]any{
		"users":           s.cfg.Gen.N(),
		"malformed":       s.cfg.Gen.MalformedCount(),
		"exports_started": s.exportsStarted,
		"users_changed":   len(s.versions),
	}
	s.mu.Unlock()
	reqs := s.Requests()
	state["requests"] = reqs
	state["statuses"] = byStatus(reqs)
	writeJSON(w, http.StatusOK, state)
}

// byStatus totals the request counters by their status (the key's last
// word: "429", "reset"), for tests asserting on injected faults.
func byStatus(requests map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range requests {
		out[k[strings.LastIndexByte(k, ' ')+1:]] += n
	}
	return out
}
