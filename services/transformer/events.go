package transformer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// EventsDurable is the consumer every transformer replica's events worker
// shares.
const EventsDurable = proto.DurableTransformerEvents

// EventsConfig tunes the events worker.
type EventsConfig struct {
	// Mapping is the config's event_mapping: Braze event type -> Brevo
	// event name, over DefaultEventMapping.
	Mapping   map[string]string
	BatchSize int // messages (each a request's events) per batch; default 200
	// BatchWait is the idle gap that cuts a batch not yet full (default
	// 20ms), BatchMaxWait the most a batch waits from its first event
	// (default 100ms): a burst fills its batches, a trickle goes on at once.
	BatchWait    time.Duration
	BatchMaxWait time.Duration
	// Concurrency is how many batches are mapped at once; default 2 (one
	// maps while the other waits for the OPS stream's acknowledgements).
	Concurrency int
	Logger      *slog.Logger
	// Instruments trace and measure the events worker (pkg/pipeline) as
	// Config.Instruments do the users worker: the Brevo events it
	// publishes carry on the trace of the raw event.
	Instruments pipeline.Instruments
}

// Events maps raw events (raw.braze.events) to Brevo events
// (ops.brevo.events).
type Events struct {
	cfg   EventsConfig
	js    jetstream.JetStream
	names map[string]string
	log   *slog.Logger
}

// NewEvents builds the events worker; the streams must be provisioned.
func NewEvents(js jetstream.JetStream, cfg EventsConfig) (*Events, error) {
	if js == nil {
		return nil, errors.New("transformer events: JetStream is required")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 200
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = 20 * time.Millisecond
	}
	if cfg.BatchMaxWait <= 0 {
		cfg.BatchMaxWait = max(100*time.Millisecond, cfg.BatchWait)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	for typ, name := range cfg.Mapping {
		if name != NameFromEvent && (name == "" || brevoToken(name) != name) {
			return nil, fmt.Errorf("event_mapping.%s: %q is not a Brevo event name (at most 255 of A-Z, a-z, 0-9, _ and -), nor %s", typ, name, NameFromEvent)
		}
	}
	return &Events{cfg: cfg, js: js, names: eventNames(cfg.Mapping),
		log: cfg.Logger.With("service", proto.StageTransformer, "worker", "events")}, nil
}

// Run consumes raw events until ctx is cancelled, then drains.
func (e *Events) Run(ctx context.Context) error {
	w, err := pipeline.NewWorker(e.js, pipeline.Config{
		Stream:       proto.StreamRaw,
		Durable:      EventsDurable,
		Subject:      proto.SubjectRawBrazeEvents,
		Stage:        proto.StageTransformer,
		Concurrency:  e.cfg.Concurrency,
		BatchSize:    e.cfg.BatchSize,
		BatchWait:    e.cfg.BatchWait,
		BatchMaxWait: e.cfg.BatchMaxWait,
		Logger:       e.log,
		Instruments:  e.cfg.Instruments,
		Prepare:      weigh,
	}, e)
	if err != nil {
		return fmt.Errorf("transformer events: starting worker: %w", err)
	}
	return w.Run(ctx)
}

// weigh makes a message count as its events in the worker's figures,
// counted from the encoding (the handler decodes them once). It leaves
// nothing in Prepared: the handler needs the message's headers, which a
// prepared message gives up (pkg/pipeline compacts it).
func weigh(m *pipeline.Msg) int {
	m.SetWeight(proto.CountRawEvents(m.Data))
	return len(m.Data)
}

// HandleBatch maps the events of every message and publishes them as one
// message (a few when over the bus's MaxPayload), reporting success once
// the OPS stream stored them. An event that cannot be mapped is
// dead-lettered on its own with its reason; the others go on.
func (e *Events) HandleBatch(ctx context.Context, batch []*pipeline.Msg) []error {
	errs := make([]error, len(batch))
	pub := pipeline.NewPublisher(e.js, len(batch))
	published := make([]int, 0, len(batch))
	limit := int(e.js.Conn().MaxPayload()) - headerRoom
	for i, m := range batch {
		raws, err := proto.DecodeRawEvents(m.Data)
		if err != nil {
			errs[i] = pipeline.Permanent("bad_payload", err)
			continue
		}
		mapped := make([]proto.BrevoEvent, 0, len(raws))
		for _, raw := range raws {
			ev, err := MapEvent(raw, e.names)
			if err == nil {
				mapped = append(mapped, ev)
				continue
			}
			if err = e.deadLetter(ctx, m, raw, err); err != nil {
				errs[i] = err
				break
			}
		}
		if errs[i] != nil || len(mapped) == 0 {
			continue
		}
		hdr := nats.Header{}
		hdr.Set(proto.HeaderSchema, "1")
		if v := m.Header.Get("traceparent"); v != "" {
			hdr.Set("traceparent", v)
		}
		if err := publishEvents(ctx, pub, mapped, limit, hdr); err != nil {
			errs[i] = err
			continue
		}
		published = append(published, i)
	}
	if err := pub.Flush(ctx); err != nil {
		for _, i := range published {
			errs[i] = fmt.Errorf("publishing events: %w", err)
		}
	}
	return errs
}

// headerRoom is kept free of MaxPayload for the headers of a message.
const headerRoom = 1 << 10

// publishEvents publishes evs as one BrevoEvents message, or, over limit,
// halves them until each part fits. An event too large on its own is an
// error: its raw form fitted, so this is a mapping gone wrong.
func publishEvents(ctx context.Context, pub *pipeline.Publisher, evs []proto.BrevoEvent, limit int, hdr nats.Header) error {
	data, err := proto.Encode(&proto.BrevoEvents{V: proto.SchemaVersion, Events: evs})
	if err != nil {
		return pipeline.Permanent("encode_failed", err)
	}
	if len(data) > limit {
		if len(evs) == 1 {
			return pipeline.Permanent("too_large", fmt.Errorf("mapped event %s is %d bytes, over the bus's limit of %d", evs[0].ID, len(data), limit))
		}
		half := len(evs) / 2
		if err := publishEvents(ctx, pub, evs[:half], limit, hdr); err != nil {
			return err
		}
		return publishEvents(ctx, pub, evs[half:], limit, hdr)
	}
	ids := make([]string, len(evs))
	for k := range evs {
		ids[k] = evs[k].ID
	}
	if err := pub.Publish(ctx, proto.SubjectOpsBrevoEvents, proto.EventsMsgID("ops.evb:", ids), hdr, data); err != nil {
		return fmt.Errorf("publishing %d events: %w", len(evs), err)
	}
	return nil
}

// deadLetter publishes the dead letter of one event of m that could not be
// mapped: the event alone, as a single RawEvent on m's subject (a replay
// sends it through again), with the mapping's reason.
func (e *Events) deadLetter(ctx context.Context, m *pipeline.Msg, raw proto.RawEvent, cause error) error {
	reason := ReasonBadEvent
	var ee *EventError
	if errors.As(cause, &ee) {
		reason = ee.Reason
	}
	data, err := proto.Encode(&raw)
	if err != nil {
		return fmt.Errorf("encoding the dead letter of event %s: %w", raw.ID, err)
	}
	hdr := nats.Header{}
	hdr.Set(proto.HeaderSchema, "1")
	hdr.Set(proto.HeaderMsgID, "ev:"+raw.Source+":"+raw.ID)
	if err := pipeline.PublishDeadLetter(ctx, e.js, proto.StageTransformer, reason, cause.Error(),
		proto.SubjectRawBrazeEvents, hdr, data, m.NumDelivered); err != nil {
		return fmt.Errorf("dead-lettering event %s: %w", raw.ID, err)
	}
	if mt := e.cfg.Instruments.Meter; mt != nil {
		mt.Settled(proto.StageTransformer, "dead_lettered", reason)
	}
	m.SetWeight(m.Weight() - 1) // reported here, not with the message
	e.log.Warn("event dead-lettered", "event", raw.Source+":"+raw.ID, "reason", reason, "err", cause)
	return nil
}
