package brevo

import (
	"fmt"
	"net/http"
	"slices"
)

// maxListCalls bounds the list-call log: older calls are dropped (and
// counted) so memory stays flat however long the simulator runs.
const maxListCalls = 20_000

// ListCall is one POST /contacts/lists/{listId}/contacts/add or /remove as
// the simulator answered it, for tests asserting on how a client changes
// list membership: how many contacts each call named, which succeeded and
// which failed.
type ListCall struct {
	Op     string `json:"op"`     // add | remove
	ListID int64  `json:"listId"` // 0 when the path's id was not an integer
	Kind   string `json:"kind"`   // emails | ids | extIds | all | "" (unreadable body)
	Count  int    `json:"count"`  // contacts named
	Status int    `json:"status"`
	// Success and Failure are the contacts as Brevo's answer names them
	// (ids in decimal): on a 400 refusing every contact, all are failures.
	Success []string `json:"success,omitempty"`
	Failure []string `json:"failure,omitempty"`
}

// listCallLog keeps the latest list calls.
type listCallLog struct {
	calls   []ListCall
	dropped int
}

func (l *listCallLog) add(c ListCall) {
	if len(l.calls) == maxListCalls {
		l.calls = slices.Delete(l.calls, 0, maxListCalls/10)
		l.dropped += maxListCalls / 10
	}
	l.calls = append(l.calls, c)
}

// ListCalls returns the list calls received since the start or the last
// Reset, oldest first (at most the latest 20,000).
func (s *Server) ListCalls() []ListCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.listCalls.calls)
}

// logListCall records one add or remove call; call with the lock held.
func (s *Server) logListCall(r *http.Request, add bool, m members, status int, success, failure []any) {
	c := ListCall{Op: "remove", Status: status, Count: len(m.emails) + len(m.ids) + len(m.extIDs)}
	if add {
		c.Op = "add"
	}
	if _, err := fmt.Sscan(r.PathValue("listId"), &c.ListID); err != nil {
		c.ListID = 0
	}
	switch {
	case m.all:
		c.Kind = "all"
	case len(m.emails) > 0:
		c.Kind = "emails"
	case len(m.ids) > 0:
		c.Kind = "ids"
	case len(m.extIDs) > 0:
		c.Kind = "extIds"
	}
	for _, v := range success {
		c.Success = append(c.Success, fmt.Sprint(v))
	}
	for _, v := range failure {
		c.Failure = append(c.Failure, fmt.Sprint(v))
	}
	s.listCalls.add(c)
}

// adminListCalls serves GET /_admin/lists/calls: {"calls": [...], "dropped": n}.
func (s *Server) adminListCalls(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	out := map[string]any{"calls": slices.Clone(s.listCalls.calls), "dropped": s.listCalls.dropped}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}
