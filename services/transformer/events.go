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
	BatchSize int // default 200
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
	}, e)
	if err != nil {
		return fmt.Errorf("transformer events: starting worker: %w", err)
	}
	return w.Run(ctx)
}

// HandleBatch maps every event and publishes it, reporting success once
// the OPS stream stored them all. An event that cannot be mapped is
// dead-lettered with its reason.
func (e *Events) HandleBatch(ctx context.Context, batch []*pipeline.Msg) []error {
	errs := make([]error, len(batch))
	pub := pipeline.NewPublisher(e.js, len(batch))
	published := make([]int, 0, len(batch))
	for i, m := range batch {
		var raw proto.RawEvent
		if err := proto.Decode(m.Data, &raw); err != nil {
			errs[i] = pipeline.Permanent("bad_payload", err)
			continue
		}
		ev, err := MapEvent(raw, e.names)
		if err != nil {
			var ee *EventError
			if errors.As(err, &ee) {
				errs[i] = pipeline.Permanent(ee.Reason, err)
			} else {
				errs[i] = pipeline.Permanent(ReasonBadEvent, err)
			}
			continue
		}
		data, err := proto.Encode(&ev)
		if err != nil {
			errs[i] = pipeline.Permanent("encode_failed", err)
			continue
		}
		hdr := nats.Header{}
		hdr.Set(proto.HeaderSchema, "1")
		if v := m.Header.Get("traceparent"); v != "" {
			hdr.Set("traceparent", v)
		}
		if err := pub.Publish(ctx, proto.SubjectOpsBrevoEvents, "ops.ev:"+raw.Source+":"+raw.ID, hdr, data); err != nil {
			errs[i] = fmt.Errorf("publishing event %s: %w", raw.ID, err)
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
