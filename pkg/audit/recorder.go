package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
)

// Publisher is what a Recorder needs from JetStream; jetstream.JetStream
// has it.
type Publisher interface {
	Publish(ctx context.Context, subject string, data []byte, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error)
}

// Options tune a Recorder.
type Options struct {
	// Buffer is how many entries may wait for the publisher; default 4096.
	// An entry is about 150 bytes, so the default holds ~600 KB.
	Buffer int
	// PublishTimeout bounds one publish; default 5s.
	PublishTimeout time.Duration
	// CloseTimeout bounds Close on top of its context; default 10s.
	CloseTimeout time.Duration
	// Logger gets drops and publish failures (and, with LogCalls, every
	// call); default slog.Default(). Pass a redacting logger
	// (pkg/logging): it sees nothing secret from here, but is the one the
	// process uses.
	Logger *slog.Logger
	// LogCalls logs every call at info (config log_api_calls): vendor,
	// method, path template, status, duration, attempt, run, service.
	LogCalls bool
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Buffer <= 0 {
		o.Buffer = 4096
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = 5 * time.Second
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// item is an entry, or (with flushed set) a marker that every entry queued
// before it has been handled.
type item struct {
	entry   Entry
	flushed chan struct{}
}

// Recorder publishes entries to the AUDIT stream in the background. Create
// it with New and Close it at shutdown, before the NATS connection drains.
type Recorder struct {
	pub  Publisher
	o    Options
	run  atomic.Pointer[string]
	q    chan item
	stop context.CancelFunc // ends the publisher, abandoning what is queued
	done chan struct{}

	closed    atomic.Bool
	dropped   atomic.Int64
	failed    atomic.Int64
	published atomic.Int64
	dropping  atomic.Bool // a drop streak is in progress (logged once)
	closeOnce sync.Once
}

// New starts a Recorder publishing on pub.
func New(pub Publisher, o Options) *Recorder {
	o = o.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Recorder{pub: pub, o: o, q: make(chan item, o.Buffer), stop: cancel, done: make(chan struct{})}
	go r.publish(ctx)
	return r
}

// SetRun stamps later entries with run id ("" for none).
func (r *Recorder) SetRun(id string) { r.run.Store(&id) }

// Run is the run id entries are stamped with now.
func (r *Recorder) Run() string {
	if p := r.run.Load(); p != nil {
		return *p
	}
	return ""
}

// Braze returns an Observer for a braze.Config, recording calls as made by
// service.
func (r *Recorder) Braze(service string) func(braze.Call) {
	return func(c braze.Call) {
		r.observe(service, c.Vendor, c.Method, c.Path, c.Status, c.Duration, c.Attempt, c.Err)
	}
}

// Brevo returns an Observer for a brevo.Config, recording calls as made by
// service.
func (r *Recorder) Brevo(service string) func(brevo.Call) {
	return func(c brevo.Call) {
		r.observe(service, c.Vendor, c.Method, c.Path, c.Status, c.Duration, c.Attempt, c.Err)
	}
}

func (r *Recorder) observe(service, vendor, method, path string, status int, d time.Duration, attempt int, err error) {
	r.Record(Entry{
		Time: r.o.Now().Add(-d), Vendor: vendor, Method: method, Path: Template(path),
		Status: status, Duration: d, Attempt: attempt, RunID: r.Run(), Service: service,
		ErrorClass: Classify(status, err),
	})
}

// Record queues e without waiting. e.Path is published as given: callers
// other than the observers should pass it through Template. A full buffer
// or a closed Recorder drops e.
func (r *Recorder) Record(e Entry) {
	if e.V == 0 {
		e.V = SchemaVersion
	}
	if r.o.LogCalls {
		r.o.Logger.Info("api call", "vendor", e.Vendor, "method", e.Method, "path", e.Path,
			"status", e.Status, "duration", e.Duration, "attempt", e.Attempt,
			"run", e.RunID, "service", e.Service, "error_class", e.ErrorClass)
	}
	if r.closed.Load() {
		r.dropped.Add(1)
		return
	}
	select {
	case r.q <- item{entry: e}:
	default:
		if r.dropped.Add(1); r.dropping.CompareAndSwap(false, true) {
			r.o.Logger.Warn("audit buffer full: dropping audit entries until the NATS server keeps up; "+
				"vendor calls go on unrecorded (check the NATS connection)", "buffer", cap(r.q))
		}
	}
}

// publish runs until stopped, publishing entries in order.
func (r *Recorder) publish(ctx context.Context) {
	defer close(r.done)
	for {
		select {
		case <-ctx.Done():
			return
		case it := <-r.q:
			if it.flushed != nil {
				close(it.flushed)
				continue
			}
			r.send(ctx, it.entry)
		}
	}
}

func (r *Recorder) send(ctx context.Context, e Entry) {
	data, err := e.Encode()
	if err == nil {
		pctx, cancel := context.WithTimeout(ctx, r.o.PublishTimeout)
		_, err = r.pub.Publish(pctx, e.Subject(), data)
		cancel()
	}
	if err != nil {
		// Logged each time: a failing publish is already slow (a timeout),
		// so this cannot flood, and each line says what was lost.
		r.failed.Add(1)
		r.o.Logger.Warn("audit entry not published; check the NATS connection and the AUDIT stream",
			"vendor", e.Vendor, "path", e.Path, "err", err)
		return
	}
	r.published.Add(1)
	if r.dropping.CompareAndSwap(true, false) {
		r.o.Logger.Warn("audit publishing caught up", "dropped_total", r.dropped.Load())
	}
}

// Flush waits until every entry recorded before the call has been published
// (or failed), or ctx is done.
func (r *Recorder) Flush(ctx context.Context) error {
	if r.closed.Load() {
		return errors.New("audit: flush after close")
	}
	done := make(chan struct{})
	select {
	case r.q <- item{flushed: done}:
	case <-ctx.Done():
		return fmt.Errorf("flushing audit entries: %w", ctx.Err())
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flushing audit entries (%d waiting): %w", len(r.q), ctx.Err())
	}
}

// Close flushes what is queued, within ctx and Options.CloseTimeout, and
// stops the publisher; entries recorded afterwards are dropped. It reports
// entries lost over the Recorder's life.
func (r *Recorder) Close(ctx context.Context) error {
	var err error
	r.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(ctx, r.o.CloseTimeout)
		defer cancel()
		err = r.Flush(ctx)
		r.closed.Store(true)
		r.stop()
		<-r.done
		// Entries recorded between the flush and the stop are lost: count them.
		r.dropped.Add(int64(len(r.q)))
		if n, f := r.dropped.Load(), r.failed.Load(); n+f > 0 {
			err = errors.Join(err, fmt.Errorf("audit: %d entries dropped (buffer full) and %d not published; "+
				"raise the buffer or check the NATS server's health", n, f))
		}
	})
	return err
}

// Stats are a Recorder's counters.
type Stats struct {
	Published int64 // entries the stream acknowledged
	Dropped   int64 // entries lost to a full buffer or recorded after Close
	Failed    int64 // entries whose publish failed
}

// Stats returns the counters so far.
func (r *Recorder) Stats() Stats {
	return Stats{Published: r.published.Load(), Dropped: r.dropped.Load(), Failed: r.failed.Load()}
}
