package braze

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// Mutate bumps the version of each user, as if someone edited their profile
// in Braze: the next export or look-up shows the change. Indices out of
// range are ignored.
func (s *Server) Mutate(indices ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, i := range indices {
		if i >= 0 && i < s.cfg.Gen.N() {
			c := s.changes[i]
			c.Version++
			s.changes[i] = c
		}
	}
}

// RemoveFields takes the named fields off each user's profile, as if someone
// unset those attributes in Braze: the next export or look-up leaves the keys
// out, and nothing else about the user changes (the version stays). Names
// are gen.RemovableFields ("first_name", "custom_attributes.vip"); a removal
// lasts, later version bumps included. Indices out of range are ignored; an
// unknown name removes nothing and is an error.
func (s *Server) RemoveFields(fields []string, indices ...int) error {
	if _, ok := gen.Removed(0).Remove(fields...); !ok {
		return fmt.Errorf("removing %v: removable fields are %v", fields, gen.RemovableFields())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, i := range indices {
		if i >= 0 && i < s.cfg.Gen.N() {
			c := s.changes[i]
			c.Removed, _ = c.Removed.Remove(fields...)
			s.changes[i] = c
		}
	}
	return nil
}

// Version is the current version of user i (0 until mutated).
func (s *Server) Version(i int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changes[i].Version
}

// RemovedFields lists the fields taken off user i's profile, sorted.
func (s *Server) RemovedFields(i int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changes[i].Removed.Names()
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
	// Remove, when given, takes these fields off the users instead of
	// bumping their version (see RemoveFields).
	Remove []string `json:"remove"`
}

type mutated struct {
	Index      int      `json:"index"`
	BrazeID    string   `json:"braze_id"`
	ExternalID string   `json:"external_id,omitempty"`
	Version    int      `json:"version"`
	Removed    []string `json:"removed,omitempty"`
}

// adminMutate serves POST /_admin/users/mutate {"count":50,"seed":7} or
// {"indices":[1,2,3]}: each user's version is bumped (its mapped fields
// change). With "remove":["first_name",...] the named fields are taken off
// the users instead, and nothing else changes: an end-to-end test can clear
// 20 users' first names and check the next sync clears them in Brevo.
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
	if len(req.Remove) > 0 {
		if err := s.RemoveFields(req.Remove, indices...); err != nil {
			writeError(w, http.StatusBadRequest, "Unknown field in remove", err.Error())
			return
		}
	} else {
		s.Mutate(indices...)
	}
	out := make([]mutated, len(indices))
	for k, i := range indices {
		ext, _ := g.ExternalID(i)
		out[k] = mutated{Index: i, BrazeID: g.BrazeID(i), ExternalID: ext, Version: s.Version(i), Removed: s.RemovedFields(i)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"mutated": out})
}

// adminState serves GET /_admin/state.
func (s *Server) adminState(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	state := map[string]any{
		"users":             s.cfg.Gen.N(),
		"malformed":         s.cfg.Gen.MalformedCount(),
		"exports_started":   s.exportsStarted,
		"users_changed":     len(s.changes),
		"users_written":     len(s.profiles), // by /users/track, /email/status, /users/delete
		"users_created":     len(s.created),
		"track_requests":    len(s.trackLog),
		"events_tracked":    s.trackedEvents,
		"purchases_tracked": s.trackedPurchases,
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
