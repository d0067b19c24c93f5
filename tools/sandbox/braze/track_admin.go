package braze

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
)

// TrackLog returns the /users/track requests answered (the last 10,000),
// oldest first: how many objects each held, whose, and what was refused.
func (s *Server) TrackLog() []TrackCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TrackCall, len(s.trackLog))
	for i, c := range s.trackLog {
		c.Users = slices.Clone(c.Users)
		c.Errors = slices.Clone(c.Errors)
		out[i] = c
	}
	return out
}

// EmailStatusLog returns the accepted /email/status requests, oldest first.
func (s *Server) EmailStatusLog() []EmailStatusCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.emailLog)
}

// SubscriptionLog returns the accepted /subscription/status/set requests.
func (s *Server) SubscriptionLog() []SubscriptionCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.subLog)
}

// SubscriptionState is the state a subscription group holds for an
// identifier ("external_id:X", "email:X", "phone:X"), "" when none was set.
func (s *Server) SubscriptionState(group, id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groups[group][id]
}

// FailTrack makes the next times /users/track objects naming id (an
// external_id, or "alias:<label>:<name>") fail with an errors[] entry, the
// rest of their request succeeding: a client's partial-failure handling
// can be tested.
func (s *Server) FailTrack(times int, ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.trackFail[id] += times
	}
}

// User returns the user with this external_id as a look-up shows it now
// (the generated profile with what the API wrote over it), or nil.
func (s *Server) User(externalID string) map[string]any {
	return s.userBy(identity{externalID: externalID})
}

// UserByAlias is User for a user named by an alias.
func (s *Server) UserByAlias(name, label string) map[string]any {
	return s.userBy(identity{alias: &userAlias{AliasName: name, AliasLabel: label}})
}

func (s *Server) userBy(id identity) map[string]any {
	s.mu.Lock()
	i, ok := s.findUser(id)
	if !ok {
		s.mu.Unlock()
		return nil
	}
	c, p, cr := s.changes[i], s.profiles[i], s.createdOf(i)
	s.mu.Unlock()
	var m map[string]any
	if err := json.Unmarshal(s.userLine(nil, i, c, p, cr, nil, false), &m); err != nil {
		return nil
	}
	return m
}

// adminTrack serves GET /_admin/track: the write requests seen and the
// subscription groups' states.
func (s *Server) adminTrack(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	groups := make(map[string]map[string]string, len(s.groups))
	for g, m := range s.groups {
		groups[g] = maps.Clone(m)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"track": s.TrackLog(), "email_status": s.EmailStatusLog(),
		"subscription_status": s.SubscriptionLog(), "subscription_groups": groups,
	})
}

// adminTrackFail serves POST /_admin/track/fail {"ids":["cust_0000007"],
// "times":1}: see FailTrack.
func (s *Server) adminTrackFail(w http.ResponseWriter, r *http.Request) {
	var req struct {
		IDs   []string `json:"ids"`
		Times int      `json:"times"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if len(req.IDs) == 0 || req.Times <= 0 {
		writeError(w, http.StatusBadRequest, "Nothing to fail", "give ids and a positive times")
		return
	}
	s.FailTrack(req.Times, req.IDs...)
	writeJSON(w, http.StatusOK, map[string]any{"failing": req.IDs, "times": req.Times})
}

// Edit sets fields of the user with this external_id as a person does in
// Braze's dashboard: the next export shows them, and no request is logged
// (TrackLog holds what API clients sent). A nil value unsets a field.
func (s *Server) Edit(externalID string, fields map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.findUser(identity{externalID: externalID})
	if !ok {
		return fmt.Errorf("no user with external_id %q", externalID)
	}
	p := s.profiles[i].clone()
	for k, v := range fields {
		if standardTrackFields[k] {
			p.top[k] = v
		} else {
			p.custom[k] = v
		}
	}
	s.profiles[i] = p
	return nil
}
