package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// Publisher is what a Recorder needs from JetStream; jetstream.JetStream
// has it.
type Publisher interface {
	Publish(ctx context.Context, subject string, data []byte, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error)
}

// Options tune a Recorder.
type Options struct {
	// Buffer is how many entries may wait for the publisher before Record
	// waits for room; default 4096. An entry is about 150 bytes, so the
	// default holds ~600 KB.
	Buffer int
	// PublishTimeout bounds one publish attempt; default 5s. A failed
	// attempt is retried, with backoff, until it succeeds or Close.
	PublishTimeout time.Duration
	// CloseTimeout bounds Close on top of its context; default 10s. What is
	// not published by then goes to the Spool.
	CloseTimeout time.Duration
	// Spool is a directory where entries that could not be published are
	// kept on disk (one file per process, mode 0600): those left when the
	// Recorder closes, and every entry of a Recorder without a Publisher
	// (the CLI's). A Recorder with a Publisher ships the spool's files to
	// the AUDIT stream at start and every SpoolEvery, then removes them.
	// Without a Spool, an entry not published by Close is lost, and
	// Close says how many.
	Spool string
	// SpoolEvery is how often the spool is looked at; default 10s.
	SpoolEvery time.Duration
	// Logger gets publish failures (and, with LogCalls, every call);
	// default slog.Default(). Pass a redacting logger (pkg/logging): it
	// sees nothing secret from here, but is the one the process uses.
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
	if o.SpoolEvery <= 0 {
		o.SpoolEvery = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// item is an entry with its message id, or (with flushed set) a marker
// that every entry queued before it has been handled.
type item struct {
	entry   Entry
	id      string
	flushed chan struct{}
}

// Recorder publishes entries to the AUDIT stream in the background, in
// order, and loses none: when the publisher falls behind, Record waits for
// room (back-pressure on the vendor calls being recorded); a failed publish
// is retried; what is left at Close goes to the spool. Create it with New
// and Close it at shutdown, before the NATS connection drains.
type Recorder struct {
	pub     Publisher // nil: every entry goes to the spool
	o       Options
	run     atomic.Pointer[string]
	q       chan item
	closing chan struct{} // closed when Close stops waiting for the publisher
	stop    context.CancelFunc
	done    chan struct{}
	spool   *spool // nil without Options.Spool

	idPrefix string
	seq      atomic.Uint64

	mu     sync.RWMutex // Record holds it shared while it queues; Close exclusively to close
	closed bool

	published atomic.Int64
	spooled   atomic.Int64
	lost      atomic.Int64 // neither published nor spooled
	retries   atomic.Int64 // failed publish attempts (each retried)
	waiting   atomic.Bool  // a back-pressure streak is in progress
	behindAt  atomic.Int64 // when a streak was last logged (unix nanoseconds)
	closeOnce sync.Once
}

// New starts a Recorder publishing on pub. With a nil pub (a process with
// no bus), entries go straight to Options.Spool, which is then required.
func New(pub Publisher, o Options) *Recorder {
	o = o.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	r := &Recorder{pub: pub, o: o, q: make(chan item, o.Buffer), closing: make(chan struct{}),
		stop: cancel, done: make(chan struct{}), idPrefix: hex.EncodeToString(b)}
	if o.Spool != "" {
		r.spool = &spool{dir: o.Spool}
	}
	if pub == nil {
		close(r.done)
		return r
	}
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

// Observer returns the observer of a vendor client (braze.Config.Observer,
// brevo.Config.Observer), recording calls as made by service.
func (r *Recorder) Observer(service string) func(restcall.Call) {
	return func(c restcall.Call) {
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

// Record queues e for publishing, waiting for room while the publisher is
// behind; after Close (or without a publisher) e goes to the spool. e.Path
// is published as given: callers other than the observers should pass it
// through Template.
func (r *Recorder) Record(e Entry) {
	if e.V == 0 {
		e.V = SchemaVersion
	}
	if r.o.LogCalls {
		r.o.Logger.Info("api call", "vendor", e.Vendor, "method", e.Method, "path", e.Path,
			"status", e.Status, "duration", e.Duration, "attempt", e.Attempt,
			"run", e.RunID, "service", e.Service, "error_class", e.ErrorClass)
	}
	it := item{entry: e, id: r.idPrefix + "-" + fmt.Sprint(r.seq.Add(1))}
	r.mu.RLock()
	if r.closed || r.pub == nil {
		r.mu.RUnlock()
		r.toSpool(it)
		return
	}
	select {
	case r.q <- it:
		r.mu.RUnlock()
		return
	default:
	}
	if r.waiting.CompareAndSwap(false, true) && r.logBehind() {
		r.o.Logger.Warn("audit publishing is behind: vendor calls wait until their entries are queued "+
			"(check the NATS connection)", "buffer", cap(r.q))
	}
	select {
	case r.q <- it:
		r.mu.RUnlock()
	case <-r.closing:
		r.mu.RUnlock()
		r.toSpool(it)
	}
}

// behindEvery spaces the warnings of a publisher that keeps falling behind.
const behindEvery = 30 * time.Second

// logBehind reports whether a back-pressure streak should be logged: the
// first, and then one every behindEvery at most.
func (r *Recorder) logBehind() bool {
	now := time.Now().UnixNano()
	last := r.behindAt.Load()
	return (last == 0 || now-last >= int64(behindEvery)) && r.behindAt.CompareAndSwap(last, now)
}

// toSpool keeps it on disk; only a spool that cannot be written loses it.
func (r *Recorder) toSpool(it item) {
	if r.spool == nil {
		r.lost.Add(1)
		r.o.Logger.Error("audit entry lost: not published and no spool to keep it in",
			"vendor", it.entry.Vendor, "path", it.entry.Path)
		return
	}
	if err := r.spool.append(it.id, it.entry); err != nil {
		r.lost.Add(1)
		r.o.Logger.Error("audit entry lost: writing it to the spool failed", "vendor", it.entry.Vendor,
			"path", it.entry.Path, "spool", r.spool.dir, "err", err)
		return
	}
	r.spooled.Add(1)
}

// publish runs until stopped, publishing entries in order and shipping the
// spool when there is nothing else to do.
func (r *Recorder) publish(ctx context.Context) {
	defer close(r.done)
	var tick <-chan time.Time
	if r.spool != nil {
		r.shipSpool(ctx)
		t := time.NewTicker(r.o.SpoolEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			r.shipSpool(ctx)
		case it := <-r.q:
			if it.flushed != nil {
				close(it.flushed)
				continue
			}
			if r.send(ctx, it.entry, it.id) {
				r.published.Add(1)
			} else {
				r.toSpool(it) // stopped mid-retry
			}
			if len(r.q) == 0 {
				r.waiting.Store(false)
			}
		}
	}
}

// send publishes e under message id, retrying with backoff until it is
// stored or ctx is done (then it reports false). The id lets the stream
// discard a retry of a publish that was stored but not acknowledged.
func (r *Recorder) send(ctx context.Context, e Entry, id string) bool {
	data, err := e.Encode()
	if err != nil {
		// Entries are plain values: this would be a bug, not a state.
		r.lost.Add(1)
		r.o.Logger.Error("audit entry lost: encoding failed", "vendor", e.Vendor, "path", e.Path, "err", err)
		return true
	}
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, r.o.PublishTimeout)
		// This loop is the one retry layer: no resend by nats.go under it.
		_, err = r.pub.Publish(pctx, e.Subject(), data, jetstream.WithMsgID(id), jetstream.WithRetryAttempts(0))
		cancel()
		if err == nil {
			return true
		}
		r.retries.Add(1)
		if attempt == 1 {
			r.o.Logger.Warn("audit entry not published yet, retrying; check the NATS connection and the AUDIT stream",
				"vendor", e.Vendor, "path", e.Path, "err", err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// Flush waits until every entry recorded before the call has been published
// (or spooled), or ctx is done.
func (r *Recorder) Flush(ctx context.Context) error {
	r.mu.RLock()
	closed := r.closed
	r.mu.RUnlock()
	if closed {
		return errors.New("audit: flush after close")
	}
	if r.pub == nil {
		return nil // every entry was spooled as it was recorded
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

// Close publishes what is queued, within ctx and Options.CloseTimeout, and
// stops the publisher; what is left, and entries recorded afterwards, go to
// the spool. It reports entries lost over the Recorder's life (only
// possible without a spool, or with one that cannot be written).
func (r *Recorder) Close(ctx context.Context) error {
	var err error
	r.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(ctx, r.o.CloseTimeout)
		defer cancel()
		err = r.Flush(ctx)
		close(r.closing) // a Record waiting for room spools instead
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		r.stop()
		<-r.done
		for {
			select {
			case it := <-r.q:
				if it.flushed == nil {
					r.toSpool(it)
				}
				continue
			default:
			}
			break
		}
		if r.spool != nil {
			err = errors.Join(err, r.spool.close())
		}
		if n := r.lost.Load(); n > 0 {
			err = errors.Join(err, fmt.Errorf("audit: %d entries lost (not published, and no spool could keep them); "+
				"check the NATS server's health and the spool directory", n))
		} else if err != nil && r.spool != nil {
			// Nothing is lost: what was not published is in the spool.
			r.o.Logger.Warn("audit entries kept in the spool until the next start", "spool", r.spool.dir,
				"spooled", r.spooled.Load(), "cause", err)
			err = nil
		}
	})
	return err
}

// Stats are a Recorder's counters.
type Stats struct {
	Published int64 // entries the stream acknowledged
	Spooled   int64 // entries kept in the spool for later
	Shipped   int64 // spooled entries (of any process) this Recorder published
	Dropped   int64 // entries lost: neither published nor spooled
	Retries   int64 // failed publish attempts, each retried
}

// Stats returns the counters so far.
func (r *Recorder) Stats() Stats {
	s := Stats{Published: r.published.Load(), Spooled: r.spooled.Load(), Dropped: r.lost.Load(), Retries: r.retries.Load()}
	if r.spool != nil {
		s.Shipped = r.spool.shipped.Load()
	}
	return s
}
