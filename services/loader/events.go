package loader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/seenset"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// EventsDurable is the consumer every loader replica's events worker shares.
const EventsDurable = proto.DurableLoaderEvents

// EventsProcessedKey is the state bucket's counter of events written to
// Brevo (status's eventsProcessed).
const EventsProcessedKey = proto.EventsProcessedKey

// EventsBrevo is what the events worker needs from a Brevo client.
type EventsBrevo interface {
	CreateEvents(ctx context.Context, events []brevo.Event) (brevo.EventResult, error)
	CreateEvent(ctx context.Context, e brevo.Event) error
	UpsertContact(ctx context.Context, c brevo.Contact) (created bool, err error)
}

var _ EventsBrevo = (*brevo.Client)(nil)

// Dead-letter reasons of events Brevo refused.
const (
	ReasonContactNotFound = "contact_not_found"
	ReasonBrevoRefused    = "brevo_refused"
)

// EventsConfig tunes the events worker.
type EventsConfig struct {
	BatchSize int // events per /events/batch call; default and most brevo.MaxBatchEvents (200)
	// BatchWait is the idle gap that cuts a batch not yet full: no event
	// for this long, it goes (a trickle is written BatchWait after its
	// last event); default 20ms. BatchMaxWait bounds a batch's wait from
	// its first event; default 200ms.
	BatchWait    time.Duration
	BatchMaxWait time.Duration
	// Concurrency is how many batches are written at once; default 1. A
	// batch's unsubscribes are blocklisted after its events are written,
	// each a /contacts call paced apart from /events: one batch at a time
	// keeps the blocklists within a batch of the timelines. With more, an
	// event id being written by one batch is not written by another: the
	// other retries it later, when the seen-set has it.
	Concurrency int
	// UnknownContactRetries is how many deliveries an event for a contact
	// Brevo does not know (yet: the users sync may not have created it)
	// gets before it is dead-lettered; default 5.
	UnknownContactRetries int
	// Seen configures the dedup memory; Stream and Subject default to
	// proto.StreamEventsSeen and proto.SubjectEventsSeen.
	Seen   seenset.Config
	Paused func() bool
	Logger *slog.Logger
	// Instruments trace and measure the events worker (pkg/pipeline) as
	// Config.Instruments do the users worker; the Brevo client's calls
	// are spans of the batch when it has the same tracer.
	Instruments pipeline.Instruments
}

// Events writes Brevo events (ops.brevo.events) to contact timelines, once
// per event id, and blocklists the email of an unsubscribe.
type Events struct {
	cfg  EventsConfig
	js   jetstream.JetStream
	bv   EventsBrevo
	kv   jetstream.KeyValue
	seen *seenset.Set
	log  *slog.Logger

	// writing holds the ids a batch is writing, so that no other batch of
	// this process writes them at the same time.
	wmu     sync.Mutex
	writing map[string]struct{}

	// cmu serialises the counter's updates in this process; rev and value
	// are its last known state, so that an update is one round trip
	// unless another replica moved it.
	cmu   sync.Mutex
	rev   uint64
	value uint64
}

// NewEvents builds the events worker and loads its seen-set; kv is the
// state bucket (its counter feeds status).
func NewEvents(ctx context.Context, js jetstream.JetStream, bv EventsBrevo, kv jetstream.KeyValue, cfg EventsConfig) (*Events, error) {
	if js == nil || bv == nil || kv == nil {
		return nil, errors.New("loader events: JetStream, a Brevo client and the state bucket are required")
	}
	if cfg.BatchSize <= 0 || cfg.BatchSize > brevo.MaxBatchEvents {
		cfg.BatchSize = brevo.MaxBatchEvents
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = 20 * time.Millisecond
	}
	if cfg.BatchMaxWait <= 0 {
		cfg.BatchMaxWait = max(200*time.Millisecond, cfg.BatchWait)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.UnknownContactRetries <= 0 {
		cfg.UnknownContactRetries = 5
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Seen.Stream == "" {
		cfg.Seen.Stream, cfg.Seen.Subject = proto.StreamEventsSeen, proto.SubjectEventsSeen
	}
	log := cfg.Logger.With("service", proto.StageLoader, "worker", "events")
	cfg.Seen.Logger = log
	seen, err := seenset.Open(ctx, js, cfg.Seen)
	if err != nil {
		return nil, fmt.Errorf("loader events: %w", err)
	}
	return &Events{cfg: cfg, js: js, bv: bv, kv: kv, seen: seen, log: log, writing: map[string]struct{}{}}, nil
}

// Run writes events until ctx is cancelled, then drains.
func (e *Events) Run(ctx context.Context) error {
	defer e.seen.Close()
	w, err := pipeline.NewWorker(e.js, pipeline.Config{
		Stream:       proto.StreamOps,
		Durable:      EventsDurable,
		Subject:      proto.SubjectOpsBrevoEvents,
		Stage:        proto.StageLoader,
		Concurrency:  e.cfg.Concurrency,
		BatchSize:    e.cfg.BatchSize,
		BatchWait:    e.cfg.BatchWait,
		BatchMaxWait: e.cfg.BatchMaxWait,
		Paused:       e.cfg.Paused,
		Logger:       e.log,
		Instruments:  e.cfg.Instruments,
	}, e)
	if err != nil {
		return fmt.Errorf("loader events: starting worker: %w", err)
	}
	return w.Run(ctx)
}

// pending is one message of a batch on its way to Brevo.
type pending struct {
	i  int
	ev proto.BrevoEvent
}

// errWriting is the fate of an event another batch of this process is
// writing: retried later, when the seen-set has its id.
var errWriting = errors.New("being written by another batch")

// HandleBatch writes the batch's new events with one /events/batch call,
// settles each from Brevo's per-event answer, records the ids written in
// the seen-set and the counter (together), then blocklists the emails of
// unsubscribes. An event already written (its id in the seen-set, or
// earlier in the batch) is not written again; one another batch is
// writing is retried later.
func (e *Events) HandleBatch(ctx context.Context, batch []*pipeline.Msg) []error {
	errs := make([]error, len(batch))
	var send, block []pending
	inBatch := map[string]bool{}
	var claimed []string
	defer func() { e.release(claimed) }()
	for i, m := range batch {
		var ev proto.BrevoEvent
		if err := proto.Decode(m.Data, &ev); err != nil {
			errs[i] = pipeline.Permanent("bad_payload", err)
			continue
		}
		if ev.BlocklistEmail {
			// Blocklisting is idempotent: redone when the message comes
			// back, even if the event itself was written already.
			block = append(block, pending{i, ev})
		}
		if inBatch[ev.ID] {
			continue
		}
		inBatch[ev.ID] = true
		send = append(send, pending{i, ev})
	}
	send, claimed = e.claim(send, errs)
	written := e.write(ctx, batch, send, errs)
	if len(written) > 0 {
		// Both round trips at once: the seen-set's record and the counter.
		seenErr := make(chan error, 1)
		go func() { seenErr <- e.seen.Add(ctx, written) }()
		if err := e.count(ctx, len(written)); err != nil {
			e.log.Warn("counting events processed failed", "err", err)
		}
		if err := <-seenErr; err != nil {
			// The events are in Brevo; without the ids on record a
			// redelivery would write them again. Retrying the record is
			// the lesser evil only if it succeeds: log loudly.
			e.log.Error("events written but not recorded as seen; a redelivery may write them twice", "events", len(written), "err", err)
		}
	}
	for _, p := range block {
		if errs[p.i] != nil {
			continue
		}
		t := true
		if _, err := e.bv.UpsertContact(ctx, brevo.Contact{ExtID: p.ev.ExtID, Email: identEmail(p.ev), EmailBlacklisted: &t}); err != nil {
			errs[p.i] = eventFate(fmt.Errorf("blocklisting the email of the contact of event %s: %w", p.ev.ID, err))
		}
	}
	return errs
}

// claim drops from send the events the seen-set has, marks the ids of the
// others as being written by this batch and returns those. An id another
// batch holds gets errWriting (retried: by then the seen-set has it, or
// the other batch failed to write it). The seen-set is asked under the
// claims' lock: a batch releases its ids only once the seen-set has them,
// so an id free here is either new or seen.
func (e *Events) claim(send []pending, errs []error) (mine []pending, ids []string) {
	if len(send) == 0 {
		return nil, nil
	}
	mine, ids = send[:0], make([]string, 0, len(send))
	e.wmu.Lock()
	defer e.wmu.Unlock()
	for _, p := range send {
		if _, busy := e.writing[p.ev.ID]; busy {
			errs[p.i] = fmt.Errorf("event %s: %w", p.ev.ID, errWriting)
			continue
		}
		if e.seen.Contains(p.ev.ID) {
			continue
		}
		e.writing[p.ev.ID] = struct{}{}
		mine, ids = append(mine, p), append(ids, p.ev.ID)
	}
	return mine, ids
}

// release frees ids claimed by claim.
func (e *Events) release(ids []string) {
	if len(ids) == 0 {
		return
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	for _, id := range ids {
		delete(e.writing, id)
	}
}

// identEmail names the contact by email only when it has no ext_id: an
// upsert by both could fail on an email another contact holds.
func identEmail(ev proto.BrevoEvent) string {
	if ev.ExtID != "" {
		return ""
	}
	return ev.Email
}

// write sends the events and returns the ids Brevo stored; the others get
// their error in errs.
func (e *Events) write(ctx context.Context, batch []*pipeline.Msg, send []pending, errs []error) []string {
	if len(send) == 0 {
		return nil
	}
	evs := make([]brevo.Event, len(send))
	for k, p := range send {
		evs[k] = brevo.Event{Name: p.ev.Name, Date: time.UnixMilli(p.ev.Date), ExtID: p.ev.ExtID, Email: p.ev.Email, Properties: p.ev.Properties}
	}
	res, err := e.bv.CreateEvents(ctx, evs)
	if err != nil && !brevo.Retryable(err) && len(send) > 1 {
		// The batch as a whole was refused: find the event at fault by
		// sending them one by one.
		e.log.Warn("event batch refused; sending its events one by one", "events", len(send), "err", err)
		res, err = brevo.EventResult{Failed: map[int]string{}}, nil
		for k, ev := range evs {
			if ierr := e.bv.CreateEvent(ctx, ev); ierr != nil {
				if brevo.Retryable(ierr) {
					errs[send[k].i] = eventFate(ierr)
					res.Failed[k] = ""
					continue
				}
				res.Failed[k] = ierr.Error()
			}
		}
	}
	if err != nil {
		for _, p := range send {
			errs[p.i] = eventFate(fmt.Errorf("writing %d events: %w", len(send), err))
		}
		return nil
	}
	written := make([]string, 0, len(send))
	for k, p := range send {
		reason, failed := res.Failed[k]
		switch {
		case !failed:
			written = append(written, p.ev.ID)
		case errs[p.i] != nil: // retryable, set above
		case strings.Contains(reason, "does not exist") && batch[p.i].NumDelivered < uint64(e.cfg.UnknownContactRetries):
			// The users sync may not have created the contact yet.
			errs[p.i] = fmt.Errorf("event %s: brevo: %s", p.ev.ID, reason)
		case strings.Contains(reason, "does not exist"):
			errs[p.i] = pipeline.Permanent(ReasonContactNotFound, fmt.Errorf("event %s (%s): brevo: %s", p.ev.ID, p.ev.Name, reason))
		default:
			errs[p.i] = pipeline.Permanent(ReasonBrevoRefused, fmt.Errorf("event %s (%s): brevo: %s", p.ev.ID, p.ev.Name, reason))
		}
	}
	return written
}

// eventFate turns a Brevo call's failure into the message's fate: a
// throttle waits for the reset, other retryable failures back off, the
// rest are dead-lettered with Brevo's answer.
func eventFate(err error) error {
	switch {
	case brevo.RetryAfter(err) > 0:
		return pipeline.RetryAfter(brevo.RetryAfter(err), err)
	case brevo.Retryable(err):
		return err
	default:
		return pipeline.Permanent(ReasonBrevoRefused, err)
	}
}

// count adds n to the events-processed counter (compare-and-set). The
// batches of this process take turns; each first tries the revision it
// last saw (one round trip), and reads the counter again only when
// another replica moved it.
func (e *Events) count(ctx context.Context, n int) error {
	e.cmu.Lock()
	defer e.cmu.Unlock()
	for range 20 {
		if e.rev > 0 {
			v := e.value + uint64(n)
			if rev, err := e.kv.Update(ctx, EventsProcessedKey, proto.EncodeCount(v), e.rev); err == nil {
				e.rev, e.value = rev, v
				return nil
			}
			e.rev = 0 // moved (or failed): read it again
		}
		entry, err := e.kv.Get(ctx, EventsProcessedKey)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			if rev, err := e.kv.Create(ctx, EventsProcessedKey, proto.EncodeCount(uint64(n))); err == nil {
				e.rev, e.value = rev, uint64(n)
				return nil
			}
			continue
		case err != nil:
			return err
		}
		e.rev, e.value = entry.Revision(), proto.DecodeCount(entry.Value())
	}
	return errors.New("counter contended: gave up after 20 attempts")
}

// EventsProcessed reads the counter of events written to Brevo.
func EventsProcessed(ctx context.Context, kv jetstream.KeyValue) (uint64, error) {
	return state.EventsProcessed(ctx, kv)
}
