package loader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
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
	// unrecorded holds ids written to Brevo that the seen-set did not
	// take (it failed): held as seen here until it does.
	unrecorded map[string]struct{}

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
	return &Events{cfg: cfg, js: js, bv: bv, kv: kv, seen: seen, log: log, writing: map[string]struct{}{}, unrecorded: map[string]struct{}{}}, nil
}

// Run writes events until ctx is cancelled, then drains.
func (e *Events) Run(ctx context.Context) error {
	defer e.seen.Close()
	w, err := pipeline.NewWorker(e.js, pipeline.Config{
		Stream:      proto.StreamOps,
		Durable:     EventsDurable,
		Subject:     proto.SubjectOpsBrevoEvents,
		Stage:       proto.StageLoader,
		Concurrency: e.cfg.Concurrency,
		// A batch is cut at BatchSize events (prepare sizes each message by
		// its events), whatever the number of messages carrying them.
		BatchSize:    e.cfg.BatchSize,
		BatchBytes:   e.cfg.BatchSize,
		Prepare:      prepare,
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

// evItem is one event of a batch's messages on its way to Brevo, and its
// fate: nil once written (or found written already).
type evItem struct {
	i   int // its message's index in the batch
	ev  proto.BrevoEvent
	err error
}

// errWriting is the fate of an event another batch of this process is
// writing: retried later, when the seen-set has its id.
var errWriting = errors.New("being written by another batch")

// prepare decodes a message as it arrives: the handler gets its events in
// Msg.Prepared, and batches are cut by events (the /events/batch call's
// size), not by messages, which carry up to a Currents batch each.
func prepare(m *pipeline.Msg) int {
	evs, err := proto.DecodeBrevoEvents(m.Data)
	if err != nil {
		m.Prepared = err
		return 1
	}
	m.Prepared = evs
	m.SetWeight(len(evs)) // the worker's figures count events
	return len(evs)
}

// messageEvents is the events of m: what prepare left, or decoded now.
func messageEvents(m *pipeline.Msg) ([]proto.BrevoEvent, error) {
	switch p := m.Prepared.(type) {
	case []proto.BrevoEvent:
		return p, nil
	case error:
		return nil, p
	}
	return proto.DecodeBrevoEvents(m.Data)
}

// HandleBatch writes the events of the batch's messages with
// /events/batch calls of at most BatchSize events, settles each event from
// Brevo's per-event answer, records the ids written in the seen-set and
// the counter (together), then blocklists the emails of unsubscribes. An
// event already written (its id in the seen-set, or earlier in the batch)
// is not written again; one another batch is writing is retried later.
//
// A message's fate is its events': an event Brevo refused for good is
// dead-lettered on its own, with Brevo's reason, and the rest of its
// message goes on; an event to retry sends the whole message round again,
// and on that delivery its events written now are skipped (the seen-set
// has them before this returns).
func (e *Events) HandleBatch(ctx context.Context, batch []*pipeline.Msg) []error {
	errs := make([]error, len(batch))
	e.recordUnrecorded(ctx)
	var items, send []*evItem
	inBatch := map[string]bool{}
	for i, m := range batch {
		evs, err := messageEvents(m)
		if err != nil {
			errs[i] = pipeline.Permanent("bad_payload", err)
			continue
		}
		for _, ev := range evs {
			it := &evItem{i: i, ev: ev}
			items = append(items, it)
			if inBatch[ev.ID] {
				continue
			}
			inBatch[ev.ID] = true
			send = append(send, it)
		}
	}
	send, claimed := e.claim(send)
	defer func() { e.release(claimed) }()
	var written []string
	for start := 0; start < len(send); start += e.cfg.BatchSize {
		written = append(written, e.write(ctx, batch, send[start:min(start+e.cfg.BatchSize, len(send))])...)
	}
	if len(written) > 0 {
		e.record(ctx, written)
	}
	blocked := map[string]bool{}
	for _, it := range items {
		if !it.ev.BlocklistEmail || it.err != nil || blocked[it.ev.ID] {
			continue
		}
		// Blocklisting is idempotent: redone when the message comes back,
		// even if the event itself was written already.
		blocked[it.ev.ID] = true
		t := true
		if _, err := e.bv.UpsertContact(ctx, brevo.Contact{ExtID: it.ev.ExtID, Email: identEmail(it.ev), EmailBlacklisted: &t}); err != nil {
			it.err = eventFate(fmt.Errorf("blocklisting the email of the contact of event %s: %w", it.ev.ID, err))
		}
	}
	for _, it := range items {
		if it.err == nil {
			continue
		}
		if pe, ok := errors.AsType[*pipeline.PermanentError](it.err); ok {
			if err := e.deadLetter(ctx, batch[it.i], it.ev, pe); err != nil {
				errs[it.i] = worse(errs[it.i], err)
			}
			continue
		}
		errs[it.i] = worse(errs[it.i], it.err)
	}
	return errs
}

// worse is a message's retry error given one more of its events to
// retry: a failure wins over a throttle (it counts toward MaxDeliver),
// of two throttles the longer.
func worse(cur, next error) error {
	if cur == nil {
		return next
	}
	c, cok := errors.AsType[*pipeline.RetryAfterError](cur)
	n, nok := errors.AsType[*pipeline.RetryAfterError](next)
	switch {
	case cok && nok && n.Delay > c.Delay, cok && !nok:
		return next
	}
	return cur
}

// deadLetter publishes the dead letter of one event of m that Brevo
// refused for good: the event alone, as a single BrevoEvent on m's subject
// (a replay sends it through again), with the reason.
func (e *Events) deadLetter(ctx context.Context, m *pipeline.Msg, ev proto.BrevoEvent, pe *pipeline.PermanentError) error {
	data, err := proto.Encode(&ev)
	if err != nil {
		return fmt.Errorf("encoding the dead letter of event %s: %w", ev.ID, err)
	}
	hdr := nats.Header{}
	hdr.Set(proto.HeaderSchema, "1")
	hdr.Set(proto.HeaderMsgID, "ops.ev:"+ev.ID)
	if err := pipeline.PublishDeadLetter(ctx, e.js, proto.StageLoader, pe.Reason, pe.Err.Error(),
		proto.SubjectOpsBrevoEvents, hdr, data, m.NumDelivered); err != nil {
		return fmt.Errorf("dead-lettering event %s: %w", ev.ID, err)
	}
	if mt := e.cfg.Instruments.Meter; mt != nil {
		mt.Settled(proto.StageLoader, "dead_lettered", pe.Reason)
	}
	m.SetWeight(m.Weight() - 1) // reported here, not with the message
	e.log.Warn("event dead-lettered", "event", ev.ID, "reason", pe.Reason, "err", pe.Err)
	return nil
}

// record puts the ids written in the seen-set and adds them to the
// counter, both round trips at once. Ids the seen-set could not take are
// kept in memory, held as seen by this process and offered again by the
// next batch: a redelivery of their message (another of its events to
// retry) must not write them again.
func (e *Events) record(ctx context.Context, written []string) {
	seenErr := make(chan error, 1)
	go func() { seenErr <- e.seen.Add(ctx, written) }()
	if err := e.count(ctx, len(written)); err != nil {
		e.log.Warn("counting events processed failed", "err", err)
	}
	if err := <-seenErr; err != nil {
		e.log.Error("events written but not recorded as seen; held in memory until recorded", "events", len(written), "err", err)
		e.wmu.Lock()
		for _, id := range written {
			e.unrecorded[id] = struct{}{}
		}
		e.wmu.Unlock()
	}
}

// recordUnrecorded offers the seen-set the ids record could not put there.
func (e *Events) recordUnrecorded(ctx context.Context) {
	e.wmu.Lock()
	if len(e.unrecorded) == 0 {
		e.wmu.Unlock()
		return
	}
	ids := make([]string, 0, len(e.unrecorded))
	for id := range e.unrecorded {
		ids = append(ids, id)
	}
	e.wmu.Unlock()
	if err := e.seen.Add(ctx, ids); err != nil {
		e.log.Warn("recording written events as seen failed again", "events", len(ids), "err", err)
		return
	}
	e.wmu.Lock()
	for _, id := range ids {
		delete(e.unrecorded, id)
	}
	e.wmu.Unlock()
}

// claim drops from send the events the seen-set has, marks the ids of the
// others as being written by this batch and returns those. An id another
// batch holds gets errWriting (retried: by then the seen-set has it, or
// the other batch failed to write it). The seen-set is asked under the
// claims' lock: a batch releases its ids only once the seen-set has them,
// so an id free here is either new or seen.
func (e *Events) claim(send []*evItem) (mine []*evItem, ids []string) {
	if len(send) == 0 {
		return nil, nil
	}
	mine, ids = send[:0], make([]string, 0, len(send))
	e.wmu.Lock()
	defer e.wmu.Unlock()
	for _, it := range send {
		if _, busy := e.writing[it.ev.ID]; busy {
			it.err = fmt.Errorf("event %s: %w", it.ev.ID, errWriting)
			continue
		}
		if _, held := e.unrecorded[it.ev.ID]; held || e.seen.Contains(it.ev.ID) {
			continue
		}
		e.writing[it.ev.ID] = struct{}{}
		mine, ids = append(mine, it), append(ids, it.ev.ID)
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
// their fate in their evItem.
func (e *Events) write(ctx context.Context, batch []*pipeline.Msg, send []*evItem) []string {
	if len(send) == 0 {
		return nil
	}
	evs := make([]brevo.Event, len(send))
	for k, it := range send {
		evs[k] = brevo.Event{Name: it.ev.Name, Date: time.UnixMilli(it.ev.Date), ExtID: it.ev.ExtID, Email: it.ev.Email, Properties: it.ev.Properties}
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
					send[k].err = eventFate(ierr)
					res.Failed[k] = ""
					continue
				}
				res.Failed[k] = ierr.Error()
			}
		}
	}
	if err != nil {
		for _, it := range send {
			it.err = eventFate(fmt.Errorf("writing %d events: %w", len(send), err))
		}
		return nil
	}
	written := make([]string, 0, len(send))
	for k, it := range send {
		reason, failed := res.Failed[k]
		switch {
		case !failed:
			written = append(written, it.ev.ID)
		case it.err != nil: // retryable, set above
		case strings.Contains(reason, "does not exist") && batch[it.i].NumDelivered < uint64(e.cfg.UnknownContactRetries):
			// The users sync may not have created the contact yet.
			it.err = fmt.Errorf("event %s: brevo: %s", it.ev.ID, reason)
		case strings.Contains(reason, "does not exist"):
			it.err = pipeline.Permanent(ReasonContactNotFound, fmt.Errorf("event %s (%s): brevo: %s", it.ev.ID, it.ev.Name, reason))
		default:
			it.err = pipeline.Permanent(ReasonBrevoRefused, fmt.Errorf("event %s (%s): brevo: %s", it.ev.ID, it.ev.Name, reason))
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
