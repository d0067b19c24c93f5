package transformer

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/proto"
)

// maxEventProperties is Brevo's limit on event_properties, as JSON.
const maxEventProperties = 50 << 10

// Reasons an event cannot be mapped (its dead letter's reason).
const (
	ReasonBadEvent     = "bad_event"
	ReasonNoIdentifier = "no_identifier"
	ReasonTooLarge     = "too_large"
)

// EventError is an event that no retry can map.
type EventError struct {
	Reason string
	Err    error
}

func (e *EventError) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *EventError) Unwrap() error { return e.Err }

type currentsEvent struct {
	Type string          `json:"event_type"`
	ID   string          `json:"id"`
	Time json.RawMessage `json:"time"`
	User struct {
		ExternalUserID string `json:"external_user_id"`
		Email          string `json:"email_address"`
	} `json:"user"`
	Properties map[string]any `json:"properties"`
}

type apiEvent struct {
	Type    string `json:"type"`
	Payload struct {
		ExternalID string          `json:"external_id"`
		Email      string          `json:"email"`
		Name       string          `json:"name"`
		Time       json.RawMessage `json:"time"`
		Properties map[string]any  `json:"properties"`
	} `json:"payload"`
}

// identityKeys are properties that identify a person: used to find the
// contact, never copied into the event's properties.
var identityKeys = map[string]bool{"email_address": true, "phone_number": true, "email": true, "phone": true}

// MapEvent turns a raw event into the Brevo event names maps it to (the
// defaults with the configured entries over them, see eventNames).
func MapEvent(raw proto.RawEvent, names map[string]string) (proto.BrevoEvent, error) {
	out := proto.BrevoEvent{V: proto.SchemaVersion, ID: raw.Source + ":" + raw.ID, Date: raw.ReceivedAt}
	var (
		typ, own string
		props    map[string]any
		when     json.RawMessage
	)
	switch raw.Source {
	case proto.EventSourceCurrents:
		var ev currentsEvent
		if err := json.Unmarshal(raw.JSON, &ev); err != nil {
			return out, &EventError{ReasonBadEvent, fmt.Errorf("reading Currents event %s: %w", raw.ID, err)}
		}
		typ, when = ev.Type, ev.Time
		out.ExtID, out.Email = ev.User.ExternalUserID, ev.User.Email
		if out.Email == "" {
			out.Email, _ = ev.Properties["email_address"].(string)
		}
		own, _ = ev.Properties["name"].(string)
		props = make(map[string]any, len(ev.Properties)+2)
		for k, v := range ev.Properties {
			if !identityKeys[k] && v != nil {
				props[brevoToken(k)] = v
			}
		}
		props["braze_event_id"] = raw.ID
		props["braze_event_type"] = typ
		out.BlocklistEmail = unsubscribes(typ, ev.Properties)
	case proto.EventSourceAPI:
		var ev apiEvent
		if err := json.Unmarshal(raw.JSON, &ev); err != nil {
			return out, &EventError{ReasonBadEvent, fmt.Errorf("reading event %s: %w", raw.ID, err)}
		}
		typ, own, when = ev.Type, ev.Payload.Name, ev.Payload.Time
		out.ExtID, out.Email = ev.Payload.ExternalID, ev.Payload.Email
		props = make(map[string]any, len(ev.Payload.Properties))
		for k, v := range ev.Payload.Properties {
			props[brevoToken(k)] = v
		}
	default:
		return out, &EventError{ReasonBadEvent, fmt.Errorf("event %s: unknown source %q", raw.ID, raw.Source)}
	}
	if out.ExtID == "" && out.Email == "" {
		return out, &EventError{ReasonNoIdentifier, fmt.Errorf("%s event %s names no external_id and no email", typ, raw.ID)}
	}
	name, ok := names[typ]
	switch {
	case !ok:
		name = unknownName(typ)
	case name == NameFromEvent && own != "":
		name = brevoToken(own)
	case name == NameFromEvent:
		name = unknownName(typ)
	}
	out.Name = name
	if t, ok := eventTime(when); ok {
		out.Date = t.UnixMilli()
	}
	if len(props) > 0 {
		b, err := json.Marshal(props)
		if err != nil {
			return out, &EventError{ReasonBadEvent, fmt.Errorf("event %s: properties: %w", raw.ID, err)}
		}
		if len(b) > maxEventProperties {
			return out, &EventError{ReasonTooLarge, fmt.Errorf("event %s: properties are %d bytes, over Brevo's 50 KB", raw.ID, len(b))}
		}
		out.Properties = props
	}
	return out, nil
}

// unsubscribes says whether a Currents event unsubscribes the user's email:
// an email unsubscribe, or a global subscription change of the email
// channel to unsubscribed.
func unsubscribes(typ string, props map[string]any) bool {
	switch typ {
	case "users.messages.email.Unsubscribe":
		return true
	case "users.behaviors.subscription.GlobalStateChange":
		ch, _ := props["channel"].(string)
		st, _ := props["subscription_status"].(string)
		if st == "" {
			st, _ = props["state"].(string)
		}
		return (ch == "" || strings.EqualFold(ch, "email")) && strings.EqualFold(strings.TrimSpace(st), "unsubscribed")
	}
	return false
}

// eventTime reads Currents' unix seconds (integer or fractional) or an
// ISO 8601 string.
func eventTime(raw json.RawMessage) (time.Time, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, false
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err == nil {
		if f <= 0 || f > 1e11 || math.IsNaN(f) {
			return time.Time{}, false
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
