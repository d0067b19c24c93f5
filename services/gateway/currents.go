package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tajo-sync/tajo/proto"
)

// CurrentsEvent is one event of a Currents batch: what the gateway needs
// to know about it, and the event exactly as Braze sent it.
type CurrentsEvent struct {
	ID   string // Braze's id; a content hash ("h:...") when Braze gave none
	Type string // event_type; may be one this build does not know
	Raw  json.RawMessage
}

// ErrShape is wrapped by decoding errors of a body that is not the
// documented shape (answered 400: Braze does not retry it).
var ErrShape = errors.New("not the documented shape")

// DecodeCurrents reads a Currents body, {"events":[{...}, ...]}, of at most
// maxEvents events. Unknown event types and fields are kept: only the
// envelope is checked (an object with an "events" array of objects whose
// id and event_type, when present, are strings).
func DecodeCurrents(body []byte, maxEvents int) ([]CurrentsEvent, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("%w: the body must be a JSON object {\"events\":[...]}: %v", ErrShape, err)
	}
	raw, ok := top["events"]
	if !ok || top == nil {
		return nil, fmt.Errorf("%w: the body has no \"events\" array", ErrShape)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		return nil, fmt.Errorf("%w: \"events\" must be an array of event objects", ErrShape)
	}
	if maxEvents > 0 && len(items) > maxEvents {
		return nil, fmt.Errorf("%w: %d events, over the limit of %d a batch", ErrShape, len(items), maxEvents)
	}
	out := make([]CurrentsEvent, 0, len(items))
	for i, it := range items {
		ev, err := decodeCurrentsEvent(it)
		if err != nil {
			return nil, fmt.Errorf("%w: events[%d]: %v", ErrShape, i, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

func decodeCurrentsEvent(raw json.RawMessage) (CurrentsEvent, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(raw, &env); err != nil || env == nil {
		return CurrentsEvent{}, errors.New("not a JSON object")
	}
	ev := CurrentsEvent{Raw: compact(raw)}
	if v, ok := env["event_type"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &ev.Type); err != nil {
			return CurrentsEvent{}, errors.New("event_type is not a string")
		}
	}
	if v, ok := env["id"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &ev.ID); err != nil {
			return CurrentsEvent{}, errors.New("id is not a string")
		}
	}
	if ev.ID == "" {
		// Braze always sends an id; without one, the same content is the
		// same event.
		h := sha256.Sum256(ev.Raw)
		ev.ID = "h:" + hex.EncodeToString(h[:16])
	}
	return ev, nil
}

// compact drops insignificant white space, so two sends of one event are
// stored alike.
func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return append(json.RawMessage(nil), raw...)
	}
	return b.Bytes()
}

// currents serves POST /v1/braze/currents.
func (s *Server) currents(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		readError(w, err)
		return
	}
	events, err := DecodeCurrents(body, s.cfg.MaxBatchEvents)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	now := time.Now().UnixMilli()
	raws := make([]proto.RawEvent, len(events))
	for i, ev := range events {
		raws[i] = proto.RawEvent{V: proto.SchemaVersion, Source: proto.EventSourceCurrents, ID: ev.ID, ReceivedAt: now, JSON: ev.Raw}
	}
	res, err := s.store(r.Context(), raws, true)
	if err != nil {
		s.log.Warn("currents batch not stored; answered 503 for Braze to re-send", "events", len(raws), "err", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the events could not be stored durably; send the batch again")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"accepted": res.stored, "deadLettered": res.deadLettered})
}
