package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

// A batch that waits on a slow vendor (a Brevo import takes a minute) holds
// tens of thousands of delivered messages, and a delivered message costs
// far more than its payload: its headers decoded into a map, its subjects,
// the client's own records (about 1.8 KB for a 400-byte upsert). So when
// Config.Prepare leaves something in Msg.Prepared, the runtime keeps of the
// message only what it needs itself: the reply subject it acknowledges on,
// its sequence, the run and line its ledger mark names, and its trace
// context. Header and Data become nil; Load reads them again from the
// stream (the message stays there until it is acknowledged), as the
// runtime does before it dead-letters a message.

// acker settles a delivered message: a jetstream.Msg, or replyAcker once
// the message is compacted.
type acker interface {
	Ack() error
	Nak() error
	NakWithDelay(time.Duration) error
	InProgress() error
	TermWithReason(string) error
}

// replyAcker settles a message by publishing on its reply subject, as the
// JetStream client does.
type replyAcker struct {
	nc    *nats.Conn
	reply string
}

func (a replyAcker) Ack() error                    { return a.nc.Publish(a.reply, []byte("+ACK")) }
func (a replyAcker) Nak() error                    { return a.nc.Publish(a.reply, []byte("-NAK")) }
func (a replyAcker) InProgress() error             { return a.nc.Publish(a.reply, []byte("+WPI")) }
func (a replyAcker) TermWithReason(r string) error { return a.nc.Publish(a.reply, []byte("+TERM "+r)) }
func (a replyAcker) NakWithDelay(d time.Duration) error {
	if d <= 0 {
		return a.Nak()
	}
	return a.nc.Publish(a.reply, []byte(`-NAK {"delay": `+strconv.FormatInt(d.Nanoseconds(), 10)+`}`))
}

// compacted is what a compacted message keeps of its headers.
type compacted struct {
	run, line, traceparent string
	w                      *Worker // reads it back (Load)
}

// compact lets go of m's headers, data and delivered message (see above).
func (w *Worker) compact(m *Msg, jm jetstream.Msg) {
	if jm.Reply() == "" {
		return
	}
	m.c = &compacted{run: w.intern(m.Header.Get(proto.HeaderRunID)), line: m.Header.Get(proto.HeaderLine),
		traceparent: m.Header.Get(traceparent), w: w}
	if m.pack != nil {
		// An item of a pack: the pack lets go of the delivered message,
		// and the item is read again from the pack (pack.go).
		m.pack.compacted(replyAcker{nc: w.js.Conn(), reply: jm.Reply()})
	} else {
		m.m = replyAcker{nc: w.js.Conn(), reply: jm.Reply()}
	}
	if m.Subject == w.cfg.Subject {
		m.Subject = w.cfg.Subject
	}
	m.Header, m.Data = nil, nil
}

const traceparent = "traceparent"

// intern shares one copy of a run id between the messages of a run.
func (w *Worker) intern(run string) string {
	w.internMu.Lock()
	defer w.internMu.Unlock()
	if run == w.lastRun {
		return w.lastRun
	}
	w.lastRun = run
	return run
}

// loadMsg reads message seq of the worker's stream.
func (w *Worker) loadMsg(ctx context.Context, seq uint64) (*jetstream.RawStreamMsg, error) {
	w.streamOnce.Do(func() {
		w.stream, w.streamErr = w.js.Stream(ctx, w.cfg.Stream)
	})
	if w.streamErr != nil {
		return nil, w.streamErr
	}
	return w.stream.GetMsg(ctx, seq)
}

// Load gives a compacted message its Header and Data back, read from its
// stream; a message that was not compacted is left as it is.
func (m *Msg) Load(ctx context.Context) error {
	if m.c == nil || m.Data != nil {
		return nil
	}
	load := m.c.w.loadMsg
	if m.pack != nil {
		load = m.c.w.loadPackItem(m.packIdx)
	}
	raw, err := load(ctx, m.StreamSeq)
	if err != nil {
		return fmt.Errorf("reading message %d of its stream again: %w", m.StreamSeq, err)
	}
	m.Header, m.Data = raw.Header, raw.Data
	if m.Header == nil {
		m.Header = nats.Header{}
	}
	if m.c.traceparent != "" {
		m.Header.Set(traceparent, m.c.traceparent) // its own span's, as the handler was given
	}
	if m.Data == nil {
		m.Data = []byte{}
	}
	return nil
}

// header is the value of one of the headers the runtime reads (run, line,
// traceparent), compacted or not.
func (m *Msg) header(key string) string {
	if m.c == nil || m.Header != nil {
		return m.Header.Get(key)
	}
	switch key {
	case proto.HeaderRunID:
		return m.c.run
	case proto.HeaderLine:
		return m.c.line
	case traceparent:
		return m.c.traceparent
	}
	return ""
}

// streamCache is the worker's handle on its stream, for Load.
type streamCache struct {
	streamOnce sync.Once
	stream     jetstream.Stream
	streamErr  error
	internMu   sync.Mutex
	lastRun    string
}
