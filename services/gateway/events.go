package gateway

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tajo-sync/tajo/proto"
)

// APIEvent is one handleEvent call's event:
// {"type":"user.event","payload":{"external_id":"user_12345","name":"product_viewed","properties":{...}}}.
type APIEvent struct {
	Type string
	ID   string // payload.id, or made up
	Raw  json.RawMessage
}

type apiEventIn struct {
	Type    *string                    `json:"type"`
	Payload map[string]json.RawMessage `json:"payload"`
}

// DecodeEvents reads a handleEvent body: one event object or an array of
// at most maxEvents. Each needs a type and a payload object naming the
// contact (external_id or email, strings); a user.event also needs a name.
// Other fields are kept as sent.
func DecodeEvents(body []byte, maxEvents int) ([]APIEvent, error) {
	body = bytes.TrimSpace(body)
	var items []json.RawMessage
	if len(body) > 0 && body[0] == '[' {
		if err := json.Unmarshal(body, &items); err != nil {
			return nil, fmt.Errorf("%w: the body must be an event object or an array of them: %v", ErrShape, err)
		}
		if len(items) == 0 {
			return nil, fmt.Errorf("%w: the array holds no event", ErrShape)
		}
	} else {
		items = []json.RawMessage{body}
	}
	if maxEvents > 0 && len(items) > maxEvents {
		return nil, fmt.Errorf("%w: %d events, over the limit of %d a call", ErrShape, len(items), maxEvents)
	}
	out := make([]APIEvent, 0, len(items))
	for i, it := range items {
		ev, err := decodeAPIEvent(it)
		if err != nil {
			if len(items) == 1 {
				return nil, fmt.Errorf("%w: %v", ErrShape, err)
			}
			return nil, fmt.Errorf("%w: event %d: %v", ErrShape, i, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

func decodeAPIEvent(raw json.RawMessage) (APIEvent, error) {
	var in apiEventIn
	if err := json.Unmarshal(raw, &in); err != nil {
		return APIEvent{}, fmt.Errorf("not an event object {\"type\",\"payload\"}: %v", err)
	}
	if in.Type == nil || *in.Type == "" {
		return APIEvent{}, errors.New("type is required, e.g. \"user.event\"")
	}
	if in.Payload == nil {
		return APIEvent{}, errors.New("payload must be an object")
	}
	str := func(k string) (string, error) {
		v, ok := in.Payload[k]
		if !ok || string(v) == "null" {
			return "", nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("payload.%s must be a string", k)
		}
		return s, nil
	}
	ext, err := str("external_id")
	if err != nil {
		return APIEvent{}, err
	}
	email, err := str("email")
	if err != nil {
		return APIEvent{}, err
	}
	if ext == "" && email == "" {
		return APIEvent{}, errors.New("payload.external_id or payload.email must name the contact")
	}
	name, err := str("name")
	if err != nil {
		return APIEvent{}, err
	}
	if *in.Type == "user.event" && name == "" {
		return APIEvent{}, errors.New("payload.name is required for a user.event")
	}
	if v, ok := in.Payload["properties"]; ok && string(v) != "null" {
		var props map[string]json.RawMessage
		if err := json.Unmarshal(v, &props); err != nil || props == nil {
			return APIEvent{}, errors.New("payload.properties must be an object")
		}
	}
	id, err := str("id")
	if err != nil {
		return APIEvent{}, err
	}
	return APIEvent{Type: *in.Type, ID: id, Raw: compact(raw)}, nil
}

// newID names an event its caller gave no id.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// handleEvent serves POST /v1/connectors/braze/events.
func (s *Server) handleEvent(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		readError(w, err)
		return
	}
	events, err := DecodeEvents(body, s.cfg.MaxBatchEvents)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	now := time.Now().UnixMilli()
	raws := make([]proto.RawEvent, len(events))
	ids := make([]string, len(events))
	for i, ev := range events {
		id := ev.ID
		if id == "" {
			id = newID()
		}
		ids[i] = id
		raws[i] = proto.RawEvent{V: proto.SchemaVersion, Source: proto.EventSourceAPI, ID: id, ReceivedAt: now, JSON: ev.Raw}
	}
	_, err = s.store(r.Context(), raws, false)
	var tl *TooLargeError
	switch {
	case errors.As(err, &tl):
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", tl.Error()+"; nothing was accepted")
		return
	case err != nil:
		s.log.Warn("events not stored; answered 503", "events", len(raws), "err", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the events could not be stored durably; send them again")
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"accepted": len(ids), "ids": ids})
}
