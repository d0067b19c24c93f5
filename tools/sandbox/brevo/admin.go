package brevo

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
)

// State is what GET /_admin/state reports.
type State struct {
	Contacts int `json:"contacts"`
	// Requests counts /v3 requests by "METHOD /v3/path-template STATUS".
	Requests map[string]int `json:"requests"`
	// Statuses totals Requests by status; faults injected in the sandbox
	// count as their status or as "timeout", "reset", "lost", "truncated".
	Statuses           map[string]int     `json:"statuses"`
	Imports            ImportState        `json:"imports"`
	BlacklistFlagsSent BlacklistFlagsSent `json:"blacklistFlagsSent"`
	// UnknownAttributes counts attribute values dropped because the account has
	// no such attribute, by name.
	UnknownAttributes map[string]int `json:"unknownAttributes"`
	// UnknownFields counts body fields the simulator ignored, by
	// "METHOD /v3/path-template field".
	UnknownFields map[string]int `json:"unknownFields"`
	// Folders and Lists are the account's, in creation order; each list says
	// how many contacts it holds (GET /_admin/contacts gives every contact's
	// listIds).
	Folders []FolderState `json:"folders"`
	Lists   []ListState   `json:"lists"`
	// MergedAway counts contacts deleted by POST /contacts with forceMerge.
	MergedAway int `json:"mergedAway"`
	// Events sums the events stored by POST /events and /events/batch.
	Events EventState `json:"events"`
	// Shop sums products and categories (products.go).
	Shop ShopState `json:"shop"`
	// Webhooks counts the webhook deliveries (webhooks_emit.go).
	Webhooks WebhookStats `json:"webhooks"`
}

// ImportState sums the import processes (not other background processes).
type ImportState struct {
	Count     int `json:"count"`
	Completed int `json:"completed"`
	// ConcurrentViolations counts imports submitted while another was still
	// queued or in process; Brevo asks for one at a time.
	ConcurrentViolations int          `json:"concurrentViolations"`
	Rows                 ImportResult `json:"rows"`
	// Notified and NotifyFailed count the calls to imports' notifyUrl by
	// outcome (2xx or anything else, a transport error included).
	Notified     int `json:"notified"`
	NotifyFailed int `json:"notifyFailed"`
}

// BlacklistFlagsSent counts requests that carried a blacklist flag at all,
// whatever its value: an untouched flag must stay absent.
type BlacklistFlagsSent struct {
	EmailBlacklisted     int `json:"emailBlacklisted"`     // POST/PUT /contacts
	SMSBlacklisted       int `json:"smsBlacklisted"`       // POST/PUT /contacts
	ImportEmailBlacklist int `json:"importEmailBlacklist"` // POST /contacts/import
	ImportSMSBlacklist   int `json:"importSmsBlacklist"`   // POST /contacts/import
}

// State returns a snapshot of the admin state.
func (s *Server) State() State {
	s.lock()
	defer s.mu.Unlock()
	st := State{
		Contacts:           s.st.count(),
		Requests:           maps.Clone(s.stats.requests),
		BlacklistFlagsSent: s.stats.blacklistSent,
		UnknownAttributes:  maps.Clone(s.stats.unknownAttributes),
		UnknownFields:      maps.Clone(s.stats.unknownFields),
		Imports: ImportState{ConcurrentViolations: s.imports.violations,
			Notified: s.stats.notified, NotifyFailed: s.stats.notifyFailed},
		MergedAway: s.stats.merged,
		Events:     s.eventState(),
		Shop:       s.shopState(),
		Webhooks:   s.out.snapshot(),
	}
	st.Statuses = map[string]int{}
	for k, n := range st.Requests {
		st.Statuses[k[strings.LastIndexByte(k, ' ')+1:]] += n
	}
	st.Folders, st.Lists = s.listStates()
	for _, p := range s.imports.all {
		if !p.isImport() {
			continue
		}
		st.Imports.Count++
		if !p.completed {
			continue
		}
		st.Imports.Completed++
		r := &st.Imports.Rows
		r.Rows += p.result.Rows
		r.Created += p.result.Created
		r.Updated += p.result.Updated
		r.Skipped += p.result.Skipped
		r.Invalid += p.result.Invalid
	}
	return st
}

// Requests returns the request counters (see State.Requests).
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.stats.requests)
}

// Contacts returns a copy of every contact, in creation order.
func (s *Server) Contacts() []Contact {
	s.lock()
	defer s.mu.Unlock()
	out := make([]Contact, 0, s.st.count())
	for i := range s.st.contacts {
		if s.st.live(i) {
			out = append(out, s.export(i))
		}
	}
	return out
}

// ContactByExtID returns the contact whose ext_id is id.
func (s *Server) ContactByExtID(id string) (Contact, bool) {
	s.lock()
	defer s.mu.Unlock()
	return s.exportFrom(s.st.byExtID, id)
}

// ContactByEmail returns the contact with this email (compared case-insensitively).
func (s *Server) ContactByEmail(email string) (Contact, bool) {
	norm, ok := normalizeEmail(email)
	if !ok {
		return Contact{}, false
	}
	s.lock()
	defer s.mu.Unlock()
	return s.exportFrom(s.st.byEmail, norm)
}

func (s *Server) exportFrom(index map[string]int32, key string) (Contact, bool) {
	i, ok := s.st.lookup(index, key)
	if !ok {
		return Contact{}, false
	}
	return s.export(i), true
}

func (s *Server) adminState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.State())
}

func (s *Server) adminReset(w http.ResponseWriter, r *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}

// adminContacts streams every contact as NDJSON. It copies a chunk at a time so a
// million contacts neither hold the lock for the whole transfer nor sit in memory
// twice; contacts created meanwhile may or may not be included.
func (s *Server) adminContacts(w http.ResponseWriter, r *http.Request) {
	const chunk = 1000
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	for from := 0; ; from += chunk {
		s.lock()
		n := min(len(s.st.contacts), from+chunk)
		batch := make([]Contact, 0, max(n-from, 0))
		for i := from; i < n; i++ {
			if s.st.live(i) {
				batch = append(batch, s.export(i))
			}
		}
		s.mu.Unlock()
		for _, c := range batch {
			if err := enc.Encode(c); err != nil {
				return // the client went away
			}
		}
		if n-from < chunk || r.Context().Err() != nil {
			return
		}
	}
}
