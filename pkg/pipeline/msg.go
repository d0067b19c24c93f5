package pipeline

import (
	"context"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/proto"
)

// Msg is one delivered message as a handler sees it. Handlers read it and
// return an error for it; they never ack it themselves.
type Msg struct {
	Subject      string
	Header       nats.Header
	Data         []byte
	NumDelivered uint64 // 1 on the first delivery
	StreamSeq    uint64 // the message's sequence in its stream
	// Prepared is what Config.Prepare left for the handler (nil without).
	Prepared any

	m       acker      // a jetstream.Msg, or its reply subject once compacted; nil for an item of a pack (acker)
	c       *compacted // set once compacted (compact.go)
	span    trace.Span // while traced and not yet settled
	outcome ledger.Outcome
	flags   ledger.Flags
	size    int        // for BatchBytes: len(Data), or what Config.Prepare said
	weight  int        // items for the Meter; 1 unless SetWeight
	pack    *packState // the pack the message is an item of (pack.go); nil: a message of its own
	packIdx int
}

// SetWeight says how many items m carries for the Meter's figures: a
// batch's size is its messages' weights, and m's settlement is reported
// once per item. A message holding a batch of events counts as its events
// (set in Config.Prepare, before the batch is reported); a handler that
// reports some of its items itself (an event dead-lettered on its own)
// lowers it before it returns. Default 1.
func (m *Msg) SetWeight(n int) { m.weight = max(n, 0) }

// Weight is what SetWeight set (1 by default).
func (m *Msg) Weight() int { return m.weight }

// Settle tells the worker what became of the message's line when the
// handler returns nil for it (or the flags to keep when it returns a
// permanent error): the worker records it in the run's ledger before
// acknowledging. A message acked without an outcome records nothing.
func (m *Msg) Settle(o ledger.Outcome, f ledger.Flags) {
	m.outcome, m.flags = o, m.flags|f
}

// Line is the run and the line of the run's export the message carries
// (its ledger entry); ok is false when it carries none.
func (m *Msg) Line() (run string, line int64, ok bool) {
	run = m.header(proto.HeaderRunID)
	line, err := strconv.ParseInt(m.header(proto.HeaderLine), 10, 64)
	return run, line, run != "" && err == nil
}

// Outcome is what the handler settled the message as.
func (m *Msg) Outcome() (ledger.Outcome, ledger.Flags) { return m.outcome, m.flags }

func newMsg(m jetstream.Msg) *Msg {
	out := &Msg{Subject: m.Subject(), Header: m.Headers(), Data: m.Data(), m: m, size: len(m.Data()), weight: 1}
	if md, err := m.Metadata(); err == nil {
		out.NumDelivered = md.NumDelivered
		out.StreamSeq = md.Sequence.Stream
	}
	return out
}

// Handler handles a batch and returns one error per message, in order: see
// the package documentation for what each error leads to. A nil slice
// means every message succeeded. ctx is cancelled when the worker gives up
// waiting for in-flight batches at shutdown.
type Handler interface {
	HandleBatch(ctx context.Context, batch []*Msg) []error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, batch []*Msg) []error

// HandleBatch calls f.
func (f HandlerFunc) HandleBatch(ctx context.Context, batch []*Msg) []error { return f(ctx, batch) }

// acker is what settles m: for an item of a pack, the pack (made when
// asked: a message held keeps no settler of its own), else the delivered
// message.
func (m *Msg) acker() acker {
	if m.pack != nil {
		return itemAcker{m.pack, m.packIdx}
	}
	return m.m
}
