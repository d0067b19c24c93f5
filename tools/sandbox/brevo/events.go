package brevo

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Limits of the events API (Brevo's reference and event-endpoints guide).
const (
	maxEventNameLen    = 255
	maxEventProperties = 50 << 10 // event_properties, as JSON
	maxBatchEvents     = 200
	maxBatchBody       = 512 << 10
)

var eventNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Event is one event stored against a contact, as the admin API shows it.
// Brevo does not deduplicate events: every accepted one is kept.
type Event struct {
	Name              string         `json:"event_name"`
	Date              time.Time      `json:"event_date"`
	ContactProperties map[string]any `json:"contact_properties,omitempty"`
	EventProperties   map[string]any `json:"event_properties,omitempty"`
	Object            map[string]any `json:"object,omitempty"`
	// Received is when the simulator accepted it (event_date defaults to it).
	Received time.Time `json:"received"`
}

// eventStore holds every contact's events, by contact index.
type eventStore struct {
	byContact map[int][]Event
	count     int
}

// eventIn is one event of a request. Identifiers name the contact; the
// highest-priority one given decides (contact_id, then ext_id, email_id,
// phone_id: Brevo's merge priority; contact_id "takes priority over all
// other identifiers" in its reference).
type eventIn struct {
	Name        *string `json:"event_name"`
	Date        *string `json:"event_date"`
	Identifiers *struct {
		ContactID        *int64  `json:"contact_id"`
		EmailID          *string `json:"email_id"`
		ExtID            *string `json:"ext_id"`
		PhoneID          *string `json:"phone_id"`
		WhatsappID       *string `json:"whatsapp_id"`
		LandlineNumberID *string `json:"landline_number_id"`
	} `json:"identifiers"`
	ContactProperties map[string]any `json:"contact_properties"`
	EventProperties   map[string]any `json:"event_properties"`
	Object            map[string]any `json:"object"`
}

// acceptedEvent is a validated event with the contact it belongs to.
type acceptedEvent struct {
	idx   int
	event Event
	props *change // contact_properties as a change of the contact, nil when none
}

// checkEvent validates one event against the account; call with the lock
// held. Nothing is changed: a batch checks every event before storing any.
func (s *Server) checkEvent(raw json.RawMessage, now time.Time) (acceptedEvent, *apiError) {
	var in eventIn
	if err := json.Unmarshal(raw, &in); err != nil {
		return acceptedEvent{}, badRequest("event is not an object of the documented shape: %v", err)
	}
	switch {
	case in.Name == nil || *in.Name == "":
		return acceptedEvent{}, missing("event_name is mandatory")
	case len(*in.Name) > maxEventNameLen || !eventNameRe.MatchString(*in.Name):
		return acceptedEvent{}, badRequest("event_name is invalid: at most %d characters among A-Z, a-z, 0-9, - and _", maxEventNameLen)
	case in.Identifiers == nil:
		return acceptedEvent{}, missing("identifiers is mandatory")
	}
	ev := Event{Name: *in.Name, Date: now.UTC(), Received: now.UTC(), EventProperties: in.EventProperties, Object: in.Object}
	if in.Date != nil {
		t, ok := parseEventDate(*in.Date)
		if !ok {
			return acceptedEvent{}, badRequest("event_date is not an ISO 8601 date-time: %q", *in.Date)
		}
		ev.Date = t
	}
	if len(in.EventProperties) > 0 {
		for k := range in.EventProperties {
			if len(k) > maxEventNameLen || !eventNameRe.MatchString(k) {
				return acceptedEvent{}, badRequest("event_properties key %q is invalid: at most %d characters among A-Z, a-z, 0-9, - and _", k, maxEventNameLen)
			}
		}
		if b, _ := json.Marshal(in.EventProperties); len(b) > maxEventProperties {
			return acceptedEvent{}, badRequest("event_properties is %d bytes, over the 50KB limit", len(b))
		}
	}
	idx, e := s.eventContact(in)
	if e != nil {
		return acceptedEvent{}, e
	}
	acc := acceptedEvent{idx: idx, event: ev}
	if len(in.ContactProperties) > 0 {
		ev.ContactProperties = in.ContactProperties
		acc.event = ev
		props := make(map[string]any, len(in.ContactProperties))
		for k, v := range in.ContactProperties {
			switch strings.ToUpper(k) {
			case attrEmail, attrSMS, attrExtID, attrContactID: // identifiers are not changed by an event
			default:
				props[k] = v
			}
		}
		c := &change{}
		if e := s.addAttributes(c, props, changeOpts{}); e != nil {
			return acceptedEvent{}, e
		}
		acc.props = c
	}
	return acc, nil
}

// eventContact finds the contact an event's identifiers name.
func (s *Server) eventContact(in eventIn) (int, *apiError) {
	id := in.Identifiers
	unknown := func(what, v string) (int, *apiError) {
		return 0, badRequest("Contact does not exist: %s %q", what, v)
	}
	switch {
	case id.ContactID != nil:
		if !s.st.live(int(*id.ContactID - 1)) {
			return unknown("contact_id", strconv.FormatInt(*id.ContactID, 10))
		}
		return int(*id.ContactID - 1), nil
	case id.ExtID != nil && *id.ExtID != "":
		if i, ok := s.st.lookup(s.st.byExtID, *id.ExtID); ok {
			return i, nil
		}
		return unknown("ext_id", *id.ExtID)
	case id.EmailID != nil && *id.EmailID != "":
		if email, ok := normalizeEmail(*id.EmailID); ok {
			if i, ok := s.st.lookup(s.st.byEmail, email); ok {
				return i, nil
			}
		}
		return unknown("email_id", *id.EmailID)
	case id.PhoneID != nil && *id.PhoneID != "":
		if phone, ok := normalizePhone(*id.PhoneID); ok {
			if i, ok := s.st.lookup(s.st.bySMS, phone); ok {
				return i, nil
			}
		}
		return unknown("phone_id", *id.PhoneID)
	case id.WhatsappID != nil && *id.WhatsappID != "":
		return unknown("whatsapp_id", *id.WhatsappID) // the sandbox account has no WHATSAPP attribute
	case id.LandlineNumberID != nil && *id.LandlineNumberID != "":
		return unknown("landline_number_id", *id.LandlineNumberID)
	}
	return 0, missing("identifiers: at least one of contact_id, email_id, ext_id, phone_id is mandatory")
}

// storeEvent keeps an accepted event and applies its contact_properties;
// call with the lock held.
func (s *Server) storeEvent(a acceptedEvent, now time.Time) {
	if a.props != nil {
		s.st.apply(a.idx, a.props, now)
	}
	s.events.byContact[a.idx] = append(s.events.byContact[a.idx], a.event)
	s.events.count++
}

// parseEventDate reads an ISO 8601 date-time; without a zone it is UTC.
func parseEventDate(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// EventState is the events part of the admin state.
type EventState struct {
	// Count is every event stored.
	Count int `json:"count"`
	// ByContact counts them by contact id.
	ByContact map[int64]int `json:"byContact"`
	// ByName counts them by event_name.
	ByName map[string]int `json:"byName"`
}

// eventState sums the events; call with the lock held.
func (s *Server) eventState() EventState {
	st := EventState{Count: s.events.count, ByContact: map[int64]int{}, ByName: map[string]int{}}
	for idx, evs := range s.events.byContact {
		st.ByContact[int64(idx)+1] = len(evs)
		for _, ev := range evs {
			st.ByName[ev.Name]++
		}
	}
	return st
}

// Events returns a copy of the events stored against a contact, in the order
// they were accepted (nil for an unknown contact).
func (s *Server) Events(contactID int64) []Event {
	s.lock()
	defer s.mu.Unlock()
	evs := s.events.byContact[int(contactID-1)]
	return append([]Event(nil), evs...)
}
