package proto

// Subjects, stream and stage of engagement events (Braze Currents and the
// page's handleEvent) on their way to Brevo contact timelines.
const (
	// SubjectRawBrazeEvents carries RawEvent: one event as the gateway
	// received it.
	SubjectRawBrazeEvents = "raw.braze.events"
	// SubjectOpsBrevoEvents carries BrevoEvent: one event to write to a
	// Brevo contact's timeline.
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
