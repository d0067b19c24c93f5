package brevo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// MaxBatchEvents is the most events one POST /events/batch takes.
const MaxBatchEvents = 200

// Event is one event for a contact's timeline (POST /events). The contact
// is named by ExtID, else Email.
type Event struct {
	Name       string
	Date       time.Time // zero: when Brevo receives it
	ExtID      string
	Email      string
	Properties map[string]any // event_properties, ≤ 50 KB as JSON
}

type eventIdentifiers struct {
	ExtID string `json:"ext_id,omitempty"`
	Email string `json:"email_id,omitempty"`
}

type eventBody struct {
	Name        string           `json:"event_name"`
	Date        string           `json:"event_date,omitempty"`
	Identifiers eventIdentifiers `json:"identifiers"`
	Properties  map[string]any   `json:"event_properties,omitempty"`
}

func (e Event) body() eventBody {
	b := eventBody{Name: e.Name, Properties: e.Properties}
	// ext_id names the contact when there is one; the email only otherwise,
	// so an event never fails on an email the contact no longer holds.
	if e.ExtID != "" {
		b.Identifiers.ExtID = e.ExtID
	} else {
		b.Identifiers.Email = e.Email
	}
	if !e.Date.IsZero() {
		b.Date = e.Date.UTC().Format(time.RFC3339Nano)
	}
	return b
}

// ErrEventNoContact is returned for an event naming no contact.
var ErrEventNoContact = errors.New("brevo: event names no contact (ext_id or email)")

// CreateEvent writes one event: 204.
func (c *Client) CreateEvent(ctx context.Context, e Event) error {
	if e.ExtID == "" && e.Email == "" {
		return fmt.Errorf("creating event %s: %w", e.Name, ErrEventNoContact)
	}
	_, err := c.do(ctx, apiCall{method: http.MethodPost, path: "/events", body: e.body()}, nil)
	return err
}

// EventResult is the outcome of a batch: Failed maps the index of each
// event Brevo refused to its reason; the others were stored.
type EventResult struct {
	Failed map[int]string
}

type batchEventsAnswer struct {
	Status string `json:"status"`
	Errors []struct {
		EventIndex []int  `json:"eventIndex"`
		Message    string `json:"message"`
	} `json:"errors"`
}

// CreateEvents writes up to MaxBatchEvents events with POST /events/batch:
// 204 when all were stored, 207 with the ones refused and why. An error
// means the call as a whole failed (nothing can be said stored).
func (c *Client) CreateEvents(ctx context.Context, events []Event) (EventResult, error) {
	if len(events) == 0 {
		return EventResult{}, nil
	}
	if len(events) > MaxBatchEvents {
		return EventResult{}, fmt.Errorf("brevo: creating %d events: at most %d a batch", len(events), MaxBatchEvents)
	}
	bodies := make([]eventBody, len(events))
	for i, e := range events {
		bodies[i] = e.body()
	}
	raw, err := json.Marshal(map[string]any{"events": bodies})
	if err != nil {
		return EventResult{}, fmt.Errorf("brevo: encoding %d events: %w", len(events), err)
	}
	var ans batchEventsAnswer
	status, err := c.do(ctx, apiCall{method: http.MethodPost, path: "/events/batch", raw: raw}, &ans)
	if err != nil {
		return EventResult{}, err
	}
	res := EventResult{}
	if status != http.StatusMultiStatus {
		return res, nil
	}
	res.Failed = map[int]string{}
	for _, e := range ans.Errors {
		for _, i := range e.EventIndex {
			if i >= 0 && i < len(events) {
				res.Failed[i] = e.Message
			}
		}
	}
	if len(res.Failed) == 0 && ans.Status == "failed" {
		for i := range events {
			res.Failed[i] = "refused (no reason given)"
		}
	}
	return res, nil
}
