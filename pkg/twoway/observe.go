package twoway

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/mapping"
)

// Brevo names its identifier attributes in contact attributes and in
// webhook content.
const (
	attrExtID = "EXT_ID"
	attrEmail = "EMAIL"
)

// FromContact reads a polled contact (GET /contacts's object). A poll
// tells the whole contact: every field of the policy is told, absent ones
// as none.
func (p *Policy) FromContact(raw []byte) (Observation, error) {
	var c struct {
		ID               int64          `json:"id"`
		Email            string         `json:"email"`
		EmailBlacklisted *bool          `json:"emailBlacklisted"`
		ModifiedAt       time.Time      `json:"modifiedAt"`
		Attributes       map[string]any `json:"attributes"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return Observation{}, fmt.Errorf("reading a polled Brevo contact: %w", err)
	}
	if c.ID <= 0 {
		return Observation{}, fmt.Errorf("reading a polled Brevo contact: no id")
	}
	o := Observation{ContactID: c.ID, Email: strings.ToLower(strings.TrimSpace(c.Email)),
		Blacklisted: c.EmailBlacklisted, At: c.ModifiedAt.UnixMilli(), Values: map[string]any{}}
	o.ExtID, _ = c.Attributes[attrExtID].(string)
	o.FP = p.brevoFingerprint(o.ExtID, o.Email, c.Attributes)
	for _, f := range p.fields {
		if f.Brevo == mapping.TargetEmail {
			o.Values[f.Brevo] = nilIfEmpty(o.Email)
			continue
		}
		o.Values[f.Brevo] = c.Attributes[f.Brevo] // nil when absent
	}
	return o, nil
}

// brevoFingerprint is the fingerprint the forward mapping gives a contact
// holding these values: its attributes in the mapping's types.
func (p *Policy) brevoFingerprint(extID, email string, attrs map[string]any) string {
	c := mapping.Contact{ExtID: extID, Attributes: make(map[string]any, len(p.fwd))}
	if p.fwdMail {
		c.Email = email
	}
	for _, a := range p.fwd {
		cv, ok := canon(attrs[a.Name], a.Type, false)
		if !ok || cv == "" {
			continue
		}
		c.Attributes[a.Name] = typed(cv, a.Type)
	}
	return c.Fingerprint()
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// WebhookEvent is what a Brevo webhook event says, read.
type WebhookEvent struct {
	Event      string
	APIKeyName string
	// Ours is true when api_key_name names the connector's own key: the
	// change is the connector's own write, and nothing is to be done.
	Ours bool
	// Relevant is false for events with no Braze counterpart
	// (list_addition: segments are not written back).
	Relevant bool
	Obs      Observation
}

// FromWebhook reads one Brevo marketing webhook event (contact_updated,
// unsubscribed, contact_deleted, list_addition). content may be an object
// of changed attributes or an array of such objects. The version is the
// event's ts (seconds), else its date; received (unix ms) when it has
// neither.
func (p *Policy) FromWebhook(raw []byte, received int64) (WebhookEvent, error) {
	var ev struct {
		Event      string          `json:"event"`
		ID         json.Number     `json:"id"`
		Email      string          `json:"email"`
		Content    json.RawMessage `json:"content"`
		Date       string          `json:"date"`
		TS         json.Number     `json:"ts"`
		APIKeyName *string         `json:"api_key_name"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&ev); err != nil {
		return WebhookEvent{}, fmt.Errorf("reading a Brevo webhook event: %w", err)
	}
	out := WebhookEvent{Event: ev.Event}
	if ev.APIKeyName != nil {
		out.APIKeyName = *ev.APIKeyName
		out.Ours = p.opts.APIKeyName != "" && out.APIKeyName == p.opts.APIKeyName
	}
	o := Observation{Email: strings.ToLower(strings.TrimSpace(ev.Email))}
	if id, err := ev.ID.Int64(); err == nil && id > 0 {
		o.ContactID = id
	}
	switch {
	case ev.TS != "":
		if ts, err := ev.TS.Float64(); err == nil && ts > 0 {
			o.At = int64(ts * 1000)
		}
	case ev.Date != "":
		for _, layout := range []string{time.DateTime, time.RFC3339Nano} {
			if t, err := time.Parse(layout, ev.Date); err == nil {
				o.At = t.UnixMilli()
				break
			}
		}
	}
	if o.At == 0 {
		o.At = received
	}
	switch ev.Event {
	case "contact_updated":
		content, err := contentOf(ev.Content)
		if err != nil {
			return WebhookEvent{}, fmt.Errorf("reading a Brevo contact_updated event: %w", err)
		}
		o.Values = map[string]any{}
		for k, v := range content {
			switch {
			case k == attrExtID:
				o.ExtID, _ = v.(string)
			case k == attrEmail:
				if s, _ := v.(string); s != "" {
					o.Values[mapping.TargetEmail] = strings.ToLower(strings.TrimSpace(s))
				}
			default:
				if n, ok := v.(json.Number); ok {
					v, _ = n.Float64()
				}
				o.Values[k] = v
			}
		}
		out.Relevant = true
	case "unsubscribed":
		yes := true
		o.Blacklisted = &yes
		out.Relevant = o.Email != ""
	case "contact_deleted":
		o.Deleted = true
		out.Relevant = true
	}
	out.Obs = o
	return out, nil
}

// contentOf reads contact_updated's content: an object, or an array of
// objects merged in order.
func contentOf(raw json.RawMessage) (map[string]any, error) {
	out := map[string]any{}
	if len(raw) == 0 || string(raw) == "null" {
		return out, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case []any:
		for _, it := range x {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("content[] holds a %T, not an object", it)
			}
			for k, val := range m {
				out[k] = val
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("content is a %T, not an object", v)
}

// typed is a canonical value (canon) as the forward mapping writes an
// attribute of type typ: a number, a boolean, or the text itself.
func typed(cv, typ string) any {
	switch typ {
	case mapping.TypeFloat:
		x, _ := strconv.ParseFloat(cv, 64)
		return x
	case mapping.TypeBoolean:
		return cv == "true"
	}
	return cv
}
