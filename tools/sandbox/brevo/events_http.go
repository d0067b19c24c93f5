package brevo

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// createEvent serves POST /events: 204 once stored, 400 for an invalid event
// (the spec declares no other error; an unknown contact is one too).
func (s *Server) createEvent(w http.ResponseWriter, r *http.Request) {
	b, e := readBody(w, r, maxBody)
	if e != nil {
		writeError(w, e)
		return
	}
	raw, _ := json.Marshal(b.fields) // the object readBody parsed, whole
	now := s.lockAs(r)
	defer s.mu.Unlock()
	acc, e := s.checkEvent(raw, now)
	if e != nil {
		writeError(w, e)
		return
	}
	s.storeEvent(acc, now)
	w.WriteHeader(http.StatusNoContent)
}

// batchError groups the events that failed for one reason (Brevo's
// BatchEventsResponse.errors).
type batchError struct {
	EventIndex []int  `json:"eventIndex"`
	Message    string `json:"message"`
}

// createBatchEvents serves POST /events/batch (Brevo docs, 2026; absent
// from the specs): up to 200 events and 512 KB. Every event is checked
// first; the valid ones are stored. All valid: 204, as the API notes have
// it. Any invalid: 207 with Brevo's BatchEventsResponse shape, the failed
// events grouped by reason with their 0-based indexes; status is
// "partial_success", or "failed" when none was stored.
func (s *Server) createBatchEvents(w http.ResponseWriter, r *http.Request) {
	b, e := readBody(w, r, maxBatchBody)
	if e != nil {
		writeError(w, e)
		return
	}
	var events []json.RawMessage
	if !b.take("events", "array of event objects", &events) && b.err == nil {
		b.err = missing("events is mandatory")
	}
	switch {
	case b.err != nil:
		writeError(w, b.err)
		return
	case len(events) == 0:
		writeError(w, missing("events must hold at least one event"))
		return
	case len(events) > maxBatchEvents:
		writeError(w, badRequest("events holds %d events, over the limit of %d a request", len(events), maxBatchEvents))
		return
	}
	now := s.lockAs(r)
	defer s.mu.Unlock()
	s.countUnknownFields(r, b)
	var errs []batchError
	ok := 0
	for i, raw := range events {
		acc, e := s.checkEvent(raw, now)
		if e != nil {
			k := slices.IndexFunc(errs, func(x batchError) bool { return x.Message == e.Message })
			if k < 0 {
				errs = append(errs, batchError{Message: e.Message})
				k = len(errs) - 1
			}
			errs[k].EventIndex = append(errs[k].EventIndex, i)
			continue
		}
		s.storeEvent(acc, now)
		ok++
	}
	if len(errs) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	status := "partial_success"
	if ok == 0 {
		status = "failed"
	}
	writeJSON(w, http.StatusMultiStatus, map[string]any{
		"status": status, "total_events": len(events), "successful_events": ok,
		"failed_events": len(events) - ok, "errors": errs,
	})
}

// adminContactEvents serves GET /_admin/contacts/{id}/events: the events of
// one contact, oldest first, and their count.
func (s *Server) adminContactEvents(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, badRequest("the contact id should be a positive integer"))
		return
	}
	evs := s.Events(id)
	if evs == nil {
		evs = []Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs, "count": len(evs)})
}
