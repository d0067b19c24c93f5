package braze

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
)

// A segment's membership is a fixed pseudo-random share of the users
// (segment.contains), changed by MoveMembers: users who joined or left since
// the simulator started. Only the users moved are stored, per segment, so
// memory stays flat in the number of users. An export keeps the moves made
// before it was requested, as Braze's export shows the segment at that
// moment.

// inSegment reports whether user i is in segment k with the moves given;
// call with the moves of that segment (nil: none).
func inSegment(sg *segment, moved map[int]bool, i int) bool {
	if in, ok := moved[i]; ok {
		return in
	}
	return sg.contains(i)
}

// MoveMembers changes a segment's membership: leave of its members leave it
// and join of the other users join it, chosen from seed among the
// well-formed users (the same ones for the same seed and state). It returns
// the indices of the users who left and joined, sorted.
func (s *Server) MoveMembers(segmentID string, leave, join int, seed int64) (left, joined []int, err error) {
	k, ok := s.segIndex[segmentID]
	if !ok {
		return nil, nil, fmt.Errorf("no segment with id %q", segmentID)
	}
	if leave < 0 || join < 0 {
		return nil, nil, fmt.Errorf("leave and join must not be negative (got %d, %d)", leave, join)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sg, moved := &s.segments[k], s.moved[k]
	// Both sets are drawn from one walk over the users, so a user chosen to
	// leave is never chosen to join.
	for _, i := range s.walkUsers(seed) {
		in := inSegment(sg, moved, i)
		switch {
		case in && len(left) < leave:
			left = append(left, i)
		case !in && len(joined) < join:
			joined = append(joined, i)
		}
		if len(left) == leave && len(joined) == join {
			break
		}
	}
	if len(left) < leave || len(joined) < join {
		return nil, nil, fmt.Errorf("segment %s: only %d members can leave and %d users can join (asked %d and %d)",
			segmentID, len(left), len(joined), leave, join)
	}
	s.applyMoves(k, left, joined)
	slices.Sort(left)
	slices.Sort(joined)
	return left, joined, nil
}

// SetMembership makes the users add members of the segment and the users
// remove not; call it to move chosen users.
func (s *Server) SetMembership(segmentID string, add, remove []int) error {
	k, ok := s.segIndex[segmentID]
	if !ok {
		return fmt.Errorf("no segment with id %q", segmentID)
	}
	for _, i := range append(slices.Clone(add), remove...) {
		if i < 0 || i >= s.cfg.Gen.N() {
			return fmt.Errorf("user index %d out of range [0, %d)", i, s.cfg.Gen.N())
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyMoves(k, remove, add)
	return nil
}

// applyMoves records the moves of segment k; call with the lock held.
func (s *Server) applyMoves(k int, left, joined []int) {
	m := s.moved[k]
	if m == nil {
		m = map[int]bool{}
		s.moved[k] = m
	}
	sg := &s.segments[k]
	set := func(i int, in bool) {
		if sg.contains(i) == in {
			delete(m, i) // back to what the segment's rule says
		} else {
			m[i] = in
		}
	}
	for _, i := range left {
		set(i, false)
	}
	for _, i := range joined {
		set(i, true)
	}
}

// walkUsers visits every well-formed user once, in an order drawn from seed
// (a stride coprime to N), as pickUsers does; call with the lock held.
func (s *Server) walkUsers(seed int64) []int {
	g := s.cfg.Gen
	n := g.N()
	if n == 0 {
		return nil
	}
	h := mix(uint64(seed) ^ 0x7365676d)
	start := int(h % uint64(n))
	step := 1 + int(mix(h)%uint64(n))
	for gcd(step, n) != 1 {
		step++
	}
	out := make([]int, 0, n)
	for k := range n {
		if i := (start + k*step) % n; !g.Malformed(i, 0) {
			out = append(out, i)
		}
	}
	return out
}

// Members returns the indices of the segment's users now, in order.
func (s *Server) Members(segmentID string) ([]int, error) {
	k, ok := s.segIndex[segmentID]
	if !ok {
		return nil, fmt.Errorf("no segment with id %q", segmentID)
	}
	s.mu.Lock()
	moved := maps.Clone(s.moved[k])
	s.mu.Unlock()
	var out []int
	for i := range s.cfg.Gen.N() {
		if inSegment(&s.segments[k], moved, i) {
			out = append(out, i)
		}
	}
	return out, nil
}

// SegmentByName returns the id of the live segment named name.
func (s *Server) SegmentByName(name string) (string, bool) {
	for _, sg := range s.segments {
		if sg.name == name && !sg.archived {
			return sg.id, true
		}
	}
	return "", false
}

type membersRequest struct {
	Leave  int   `json:"leave"`
	Join   int   `json:"join"`
	Seed   int64 `json:"seed"`
	Add    []int `json:"add"`
	Remove []int `json:"remove"`
}

type movedUser struct {
	Index      int    `json:"index"`
	BrazeID    string `json:"braze_id"`
	ExternalID string `json:"external_id,omitempty"`
	Email      string `json:"email,omitempty"`
}

// adminMembers serves POST /_admin/segments/{id}/members with
// {"leave":300,"join":200,"seed":7} (users chosen from the seed) or
// {"add":[1,2],"remove":[3]} (users by index): the segment's membership
// changes for the exports requested after it. It answers who left, who
// joined and how many members the segment has now.
func (s *Server) adminMembers(w http.ResponseWriter, r *http.Request) {
	var req membersRequest
	if !decodeBody(w, r, &req) {
		return
	}
	id := r.PathValue("id")
	var left, joined []int
	var err error
	switch {
	case (req.Leave > 0 || req.Join > 0) && (len(req.Add) > 0 || len(req.Remove) > 0):
		writeError(w, http.StatusBadRequest, "Give either leave/join or add/remove, not both")
		return
	case len(req.Add) > 0 || len(req.Remove) > 0:
		left, joined, err = req.Remove, req.Add, s.SetMembership(id, req.Add, req.Remove)
	case req.Leave > 0 || req.Join > 0:
		left, joined, err = s.MoveMembers(id, req.Leave, req.Join, req.Seed)
	default:
		writeError(w, http.StatusBadRequest, "Nothing to change", "give leave and join counts (with seed), or add and remove indices")
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "Membership not changed", err.Error())
		return
	}
	members, _ := s.Members(id)
	writeJSON(w, http.StatusOK, map[string]any{"left": s.describeUsers(left), "joined": s.describeUsers(joined),
		"members": len(members)})
}

func (s *Server) describeUsers(indices []int) []movedUser {
	g := s.cfg.Gen
	out := make([]movedUser, len(indices))
	for k, i := range indices {
		ext, _ := g.ExternalID(i)
		email, _ := g.Email(i)
		out[k] = movedUser{Index: i, BrazeID: g.BrazeID(i), ExternalID: ext, Email: email}
	}
	return out
}

// adminSegment serves GET /_admin/segments/{id}: the segment's name and how
// many members it has now.
func (s *Server) adminSegment(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	members, err := s.Members(id)
	if err != nil {
		writeError(w, http.StatusNotFound, "Not Found", err.Error())
		return
	}
	k := s.segIndex[id]
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "name": s.segments[k].name, "members": len(members),
		"archived": s.segments[k].archived, "users": s.cfg.Gen.N()})
}

// SegmentInfo is one segment of the workspace.
type SegmentInfo struct {
	ID       string
	Name     string
	Archived bool
}

// SegmentList returns the workspace's segments in creation order, archived
// ones included.
func (s *Server) SegmentList() []SegmentInfo {
	out := make([]SegmentInfo, len(s.segments))
	for k, sg := range s.segments {
		out[k] = SegmentInfo{ID: sg.id, Name: sg.name, Archived: sg.archived}
	}
	return out
}
