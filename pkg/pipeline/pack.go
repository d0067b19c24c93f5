package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

// A pack is one JetStream message carrying several items (a user each, on
// the users' RAW and OPS hops): each stored message, its acknowledgement
// and its removal from a work stream cost the server about what a whole
// small message costs, so a pack of 128 users costs it a 128th of that per
// user. The publisher packs (Publisher.Packing); the worker unpacks each
// pack into one Msg per item before its handler sees them (handlers are
// the same for packed and single messages: a dead letter replayed, or a
// message published before packs, arrives single). Each item keeps its own
// headers (run, line, msg id, trace context) and is settled on its own:
// its ledger mark, its dead letter. The pack is acknowledged once every
// item is settled, or, when one asked to be retried, delivered again whole
// after the longest delay asked for. The worker remembers which of its
// items it had settled for good (packMemo): when the pack comes back to
// it, those are not handled again, only the ones that asked to be. A pack
// that comes back to another replica, or after a restart, is handled
// whole, which every handler of a redelivered message does already (the
// loader finds the items applied).
//
// Packs are cut by count and bytes and at each Flush, so a publisher that
// publishes the same items in the same order (an export read again after a
// restart) makes the same packs under the same msg ids, which the stream's
// duplicate window drops.

// DefaultPackItems is how many items a pack holds at most.
const DefaultPackItems = 128

// packBytes bounds a pack's items' bytes (the bus's max payload may be
// lower: the pack is then cut before it).
const packBytes = 256 << 10

// packItem is one item of a pack's body (a msgpack array of them).
type packItem struct {
	H map[string][]string `msgpack:"h,omitempty"`
	D []byte              `msgpack:"d"`
}

// openPack is a pack being filled for one subject.
type openPack struct {
	subject string
	items   []packItem
	ids     []string
	bytes   int
	traced  bool
}

// Packing makes p pack up to n items a message (DefaultPackItems when n <=
// 0) on every subject, and returns p. Set it before the first Publish.
func (p *Publisher) Packing(n int) *Publisher {
	if n <= 0 {
		n = DefaultPackItems
	}
	p.pack = n
	return p
}

// add puts one item in its subject's pack, sending the pack once full.
func (p *Publisher) add(ctx context.Context, m *nats.Msg, msgID string) error {
	if p.packs == nil {
		p.packs = map[string]*openPack{}
	}
	op := p.packs[m.Subject]
	if op == nil {
		op = &openPack{subject: m.Subject}
		p.packs[m.Subject] = op
	}
	size := len(m.Data) + headerBytes(m.Header) + 16
	limit := min(packBytes, int(p.js.Conn().MaxPayload())/2)
	if len(op.items) > 0 && op.bytes+size > limit {
		if err := p.send(ctx, op); err != nil {
			return err
		}
	}
	op.items = append(op.items, packItem{H: m.Header, D: m.Data})
	op.ids = append(op.ids, msgID)
	op.bytes += size
	op.traced = op.traced || m.Header.Get(traceparent) != ""
	if len(op.items) >= p.pack {
		return p.send(ctx, op)
	}
	return nil
}

// sendPacks sends every subject's pack being filled.
func (p *Publisher) sendPacks(ctx context.Context) error {
	for _, op := range p.packs {
		if len(op.items) == 0 {
			continue
		}
		if err := p.send(ctx, op); err != nil {
			return err
		}
	}
	return nil
}

// maxKeptPack: a pack encoded past it (items of unusual size) leaves no
// buffer behind.
const maxKeptPack = 1 << 20

// send publishes op as one message and empties it. A failure is also kept
// for Flush: the items were handed over by earlier Publish calls. Call with
// packMu held.
func (p *Publisher) send(ctx context.Context, op *openPack) error {
	p.scratch = appendPack(p.scratch[:0], op.items)
	data := bytes.Clone(p.scratch)
	if cap(p.scratch) > maxKeptPack {
		p.scratch = nil
	}
	n := len(op.items)
	id := packID(op.ids)
	op.items, op.ids, op.bytes, op.traced = op.items[:0:0], op.ids[:0], 0, false
	m := &nats.Msg{Subject: op.subject, Data: data, Header: nats.Header{}}
	m.Header.Set(proto.HeaderPack, strconv.Itoa(n))
	m.Header.Set(proto.HeaderMsgID, id)
	err := p.publish(ctx, m, id)
	if err != nil {
		err = fmt.Errorf("publishing a pack of %d items: %w", n, err)
		p.mu.Lock()
		if p.err == nil {
			p.err = err
		}
		p.mu.Unlock()
	}
	return err
}

// packID names a pack by its items' msg ids.
func packID(ids []string) string {
	h := sha256.New()
	for _, id := range ids {
		h.Write([]byte(id))
		h.Write([]byte{'\n'})
	}
	return "pack:" + hex.EncodeToString(h.Sum(nil)[:16])
}

func headerBytes(h nats.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// unpack reads the items of a pack; ok false: m is a single message.
func unpack(hdr nats.Header, data []byte) (items []packItem, ok bool, err error) {
	if hdr.Get(proto.HeaderPack) == "" {
		return nil, false, nil
	}
	items, err = decodePack(data)
	if err != nil {
		return nil, true, fmt.Errorf("decoding a pack: %w", err)
	}
	return items, true, nil
}

// packState settles a delivered pack once all its items are settled.
type packState struct {
	mu       sync.Mutex
	parent   acker // the delivered pack, or its reply subject once compacted
	left     int   // items not settled yet
	retry    bool  // an item asked to be handled again
	delay    time.Duration
	progress time.Time // the last InProgress passed on
	seq      uint64    // the pack's stream sequence
	id       string    // and msg id (packID)
	done     []uint64  // bit i: item i settled for good (this delivery or an earlier one)
	memo     *packMemo // told what was done when the pack is asked for again
}

// compacted swaps the delivered pack for its reply subject (compact.go).
func (p *packState) compacted(a acker) {
	p.mu.Lock()
	if _, ok := p.parent.(replyAcker); !ok {
		p.parent = a
	}
	p.mu.Unlock()
}

func (p *packState) settle(item int, retry bool, delay time.Duration) error {
	p.mu.Lock()
	p.left--
	if retry {
		p.retry, p.delay = true, max(p.delay, delay)
	} else if p.done != nil {
		p.done[item/64] |= 1 << (item % 64)
	}
	done, parent, again, d := p.left == 0, p.parent, p.retry, p.delay
	p.mu.Unlock()
	switch {
	case !done:
		return nil
	case again:
		p.memo.keep(p.seq, p.id, p.done)
		return parent.NakWithDelay(d)
	}
	return parent.Ack()
}

// itemAcker settles item i of a pack.
type itemAcker struct {
	p *packState
	i int
}

func (a itemAcker) Ack() error                         { return a.p.settle(a.i, false, 0) }
func (a itemAcker) TermWithReason(string) error        { return a.p.settle(a.i, false, 0) } // dead-lettered: done with
func (a itemAcker) Nak() error                         { return a.p.settle(a.i, true, 0) }
func (a itemAcker) NakWithDelay(d time.Duration) error { return a.p.settle(a.i, true, d) }

// packMemo remembers, for each pack this worker asked to have again, the
// items it had settled for good (their ledger marks and dead letters are
// recorded), until the pack comes back. Kept for at most packMemoMax
// packs: one forgotten is handled whole when it comes back, as one that
// came back to another replica is.
type packMemo struct {
	mu sync.Mutex
	m  map[uint64]packDone // by the pack's stream sequence
}

// packDone is what packMemo keeps of a pack: its msg id, which a pack
// under the same sequence of a stream made anew would not have, and its
// done bits.
type packDone struct {
	id   string
	done []uint64
}

// packMemoMax bounds the packs remembered: far more than a worker holds
// (max_ack_pending), about 20 bytes each.
const packMemoMax = 4096

// keep remembers done for the pack at seq named id (nil: nothing).
func (pm *packMemo) keep(seq uint64, id string, done []uint64) {
	if pm == nil || done == nil || id == "" {
		return
	}
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if pm.m == nil {
		pm.m = map[uint64]packDone{}
	}
	for k := range pm.m {
		if len(pm.m) < packMemoMax {
			break
		}
		delete(pm.m, k)
	}
	pm.m[seq] = packDone{id, done}
}

// take returns and forgets what was done of the pack at seq named id (nil:
// nothing known).
func (pm *packMemo) take(seq uint64, id string) []uint64 {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	d, ok := pm.m[seq]
	delete(pm.m, seq)
	if !ok || d.id != id {
		return nil
	}
	return d.done
}

// InProgress passes progress on to the pack at most once a second,
// whatever the number of its items held.
func (a itemAcker) InProgress() error {
	a.p.mu.Lock()
	if time.Since(a.p.progress) < time.Second {
		a.p.mu.Unlock()
		return nil
	}
	a.p.progress = time.Now()
	parent := a.p.parent
	a.p.mu.Unlock()
	return parent.InProgress()
}

// delivered turns a delivered message into the Msgs its handler sees: the
// message itself, or one per item of a pack. A pack that cannot be decoded
// goes as it is (its handler dead-letters what it cannot read).
func (w *Worker) delivered(jm jetstream.Msg) []*Msg {
	msg := newMsg(jm)
	items, ok, err := unpack(msg.Header, msg.Data)
	if !ok || err != nil || len(items) == 0 {
		if err != nil {
			w.log.Warn("a pack could not be decoded: handled as one message", "seq", msg.StreamSeq, "error", err)
		}
		return []*Msg{msg}
	}
	ps := &packState{parent: jm, left: len(items), seq: msg.StreamSeq, id: msg.Header.Get(proto.HeaderMsgID), memo: &w.packs}
	if msg.NumDelivered > 1 {
		ps.done = w.packs.take(ps.seq, ps.id)
	}
	if len(ps.done) != (len(items)+63)/64 {
		ps.done = make([]uint64, (len(items)+63)/64) // nothing known (or not this pack)
	}
	out := make([]*Msg, 0, len(items))
	for i, it := range items {
		if ps.done[i/64]&(1<<(i%64)) != 0 {
			ps.left-- // settled for good in an earlier delivery
			continue
		}
		h := nats.Header(it.H)
		if h == nil {
			h = nats.Header{}
		}
		out = append(out, &Msg{Subject: msg.Subject, Header: h, Data: it.D, NumDelivered: msg.NumDelivered,
			StreamSeq: msg.StreamSeq, size: len(it.D), weight: 1, pack: ps, packIdx: i})
	}
	if len(out) == 0 {
		// Every item was settled (the pack came back before its retry
		// was asked, say): nothing to handle again.
		if err := jm.Ack(); err != nil {
			w.log.Warn("ack of a pack already handled failed; it returns after ack_wait", "seq", msg.StreamSeq, "error", err)
		}
	}
	return out
}

// loadPackItem reads item i of the pack at seq of the worker's stream.
func (w *Worker) loadPackItem(i int) func(ctx context.Context, seq uint64) (*jetstream.RawStreamMsg, error) {
	return func(ctx context.Context, seq uint64) (*jetstream.RawStreamMsg, error) {
		raw, err := w.loadMsg(ctx, seq)
		if err != nil {
			return nil, err
		}
		if raw.Header.Get(proto.HeaderPack) == "" {
			return nil, fmt.Errorf("message %d is not the pack it was delivered as", seq)
		}
		it, ok, err := decodePackItem(raw.Data, i)
		switch {
		case err != nil:
			return nil, fmt.Errorf("decoding item %d of the pack at %d: %w", i, seq, err)
		case !ok:
			return nil, fmt.Errorf("message %d is not the pack it was delivered as", seq)
		}
		return &jetstream.RawStreamMsg{Subject: raw.Subject, Sequence: seq, Header: it.H, Data: it.D, Time: raw.Time}, nil
	}
}
