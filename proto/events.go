package proto

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/vmihailenco/msgpack/v5"
)

// Subjects, stream and stage of engagement events (Braze Currents and the
// page's handleEvent) on their way to Brevo contact timelines.
const (
	// SubjectRawBrazeEvents carries RawEvents: the events of a request as
	// the gateway received them (a single RawEvent before batches).
	SubjectRawBrazeEvents = "raw.braze.events"
	// SubjectOpsBrevoEvents carries BrevoEvents: events to write to Brevo
	// contact timelines (a single BrevoEvent before batches).
	SubjectOpsBrevoEvents = "ops.brevo.events"

	// StreamEventsSeen holds the ids of events written to Brevo, in
	// time-stamped batches, for as long as Braze may re-send them (see
	// pkg/seenset).
	StreamEventsSeen   = "EVENTS_SEEN"
	SubjectEventsSeen  = "seen.events"
	SubjectsEventsSeen = "seen.>"

	// StageGateway names the gateway in dead-letter subjects.
	StageGateway = "gateway"
)

// Sources of a RawEvent.
const (
	EventSourceCurrents = "currents" // POST /v1/braze/currents
	EventSourceAPI      = "api"      // POST /v1/connectors/braze/events (handleEvent)
)

// RawEvent is one event as the gateway received it. JSON is the event
// object exactly as sent: unknown types and fields travel on untouched.
type RawEvent struct {
	V      int    `msgpack:"v"`
	Source string `msgpack:"src"`
	// ID is Braze's event id (Currents), the caller's id, or one the
	// gateway made up (handleEvent without an id): the dedup key.
	ID         string `msgpack:"id"`
	ReceivedAt int64  `msgpack:"at"` // unix ms
	JSON       []byte `msgpack:"json"`
}

func (m *RawEvent) Schema() int { return m.V }

// BrevoEvent is one event to write to a Brevo contact's timeline, and
// whether to blocklist the contact's email as well.
type BrevoEvent struct {
	V     int    `msgpack:"v"`
	ID    string `msgpack:"id"` // the RawEvent's id: the dedup key
	Name  string `msgpack:"name"`
	Date  int64  `msgpack:"date"` // unix ms
	ExtID string `msgpack:"ext,omitempty"`
	Email string `msgpack:"email,omitempty"`
	// Properties are the event's properties (campaign and Canvas ids and
	// names, step, variant, ...), keys in Brevo's [A-Za-z0-9_-].
	Properties map[string]any `msgpack:"props,omitempty"`
	// BlocklistEmail asks for emailBlacklisted: true on the contact (an
	// email unsubscribe). Nothing ever asks for false.
	BlocklistEmail bool `msgpack:"block,omitempty"`
}

func (m *BrevoEvent) Schema() int { return m.V }

// RawEvents is the form the gateway publishes on SubjectRawBrazeEvents:
// the events of one request (a Currents batch, a handleEvent array) in
// one message, so that a batch costs one JetStream message, not one per
// event. A request too large for one message is split over a few.
type RawEvents struct {
	V      int        `msgpack:"v"`
	Events []RawEvent `msgpack:"evs"`
}

func (m *RawEvents) Schema() int { return m.V }

// BrevoEvents is the form the transformer publishes on
// SubjectOpsBrevoEvents: the mapped events of one RawEvents message.
type BrevoEvents struct {
	V      int          `msgpack:"v"`
	Events []BrevoEvent `msgpack:"evs"`
}

func (m *BrevoEvents) Schema() int { return m.V }

// DecodeRawEvents reads a message of SubjectRawBrazeEvents: a RawEvents,
// or a single RawEvent (published before events travelled in batches, or
// a dead letter replayed).
func DecodeRawEvents(data []byte) ([]RawEvent, error) {
	var b RawEvents
	if err := Decode(data, &b); err != nil {
		return nil, err
	}
	if len(b.Events) > 0 {
		return b.Events, nil
	}
	var one RawEvent
	if err := Decode(data, &one); err != nil {
		return nil, err
	}
	if one.ID == "" && one.JSON == nil {
		return nil, fmt.Errorf("decoding raw events: neither a batch of events nor one event")
	}
	return []RawEvent{one}, nil
}

// CountRawEvents is how many events a message of SubjectRawBrazeEvents
// holds, read from the length of its events array without decoding them:
// 1 for the single-event form, and for a message that cannot be read (its
// handler says why). DecodeRawEvents reads the events themselves.
func CountRawEvents(data []byte) int {
	d := msgpack.GetDecoder()
	defer msgpack.PutDecoder(d)
	d.Reset(bytes.NewReader(data))
	n, err := d.DecodeMapLen()
	if err != nil {
		return 1
	}
	for range n {
		k, err := d.DecodeString()
		if err != nil {
			return 1
		}
		if k == "evs" {
			if l, err := d.DecodeArrayLen(); err == nil && l > 0 {
				return l
			}
			return 1
		}
		if err := d.Skip(); err != nil {
			return 1
		}
	}
	return 1
}

// DecodeBrevoEvents reads a message of SubjectOpsBrevoEvents: a
// BrevoEvents, or a single BrevoEvent (the form before batches, and that
// of a replayed dead letter).
func DecodeBrevoEvents(data []byte) ([]BrevoEvent, error) {
	var b BrevoEvents
	if err := Decode(data, &b); err != nil {
		return nil, err
	}
	if len(b.Events) > 0 {
		return b.Events, nil
	}
	var one BrevoEvent
	if err := Decode(data, &one); err != nil {
		return nil, err
	}
	if one.ID == "" {
		return nil, fmt.Errorf("decoding Brevo events: neither a batch of events nor one event")
	}
	return []BrevoEvent{one}, nil
}

// EventsMsgID is the Nats-Msg-Id of a message of events: prefix and a
// hash of the sorted event ids. A batch sent again as it was is stored
// once; one sent again in another composition is stored again, and the
// loader's dedup by event id keeps each event single in Brevo.
func EventsMsgID(prefix string, ids []string) string {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	h := sha256.New()
	for _, id := range sorted {
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	return prefix + hex.EncodeToString(h.Sum(nil)[:16])
}
