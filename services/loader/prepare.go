package loader

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// A full sync fills each Brevo import by bytes: the worker batches upserts
// by the bytes of the rows they will be (pipeline.Config.Prepare), so one
// batch is about one full import. Each upsert is decoded and encoded into
// its row once, as it arrives; the batch then holds the rows and what the
// loader decides on (key, identifiers, versions), not the decoded
// attributes. A row the claims or the cleared attributes change is encoded
// again from the message (rare).

// importFill is the bytes of rows a batch gathers for an import whose body
// may take maxBytes: the body's own framing kept out, and 2% left for rows
// that grow when the claims and cleared attributes are applied.
func importFill(maxBytes int) int {
	return max(int(0.98*float64(maxBytes-brevo.ImportOverhead)), 1)
}

// prepared is an upsert as it arrived: its row and what the loader reads.
type prepared struct {
	up   proto.ContactUpsert // without its attributes
	sms  string
	mask string // the mapping's attributes it holds (cleared.go)
	row  []byte
}

// preparer encodes arriving upserts (the worker calls it from one
// goroutine; the lock makes it safe from any).
type preparer struct {
	attrs attrSet
	mu    sync.Mutex
	buf   []byte
	run   string // the last run id seen, shared by the upserts of a run
}

// prepare is the worker's Config.Prepare: the row's bytes, with its comma.
// An upsert that cannot be decoded or encoded is left to the handler,
// which says why.
func (p *preparer) prepare(m *pipeline.Msg) int {
	var up proto.ContactUpsert
	if err := proto.Decode(m.Data, &up); err != nil {
		return len(m.Data)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	row, err := brevo.AppendImportRow(p.buf[:0], brevo.ImportContact{Email: up.Email, ExtID: up.ExtID, Attributes: up.Attributes})
	p.buf = row
	if err != nil {
		return len(m.Data)
	}
	if up.RunID == p.run {
		up.RunID = p.run // one copy of the string for the whole run
	}
	p.run = up.RunID
	// What the batch holds of each upsert until its import completes is
	// kept small: one copy of a key that is also the ext_id, no braze_id
	// (the contacts path does not read it).
	if up.ExtID == up.Key {
		up.ExtID = up.Key
	}
	up.BrazeID = ""
	pr := &prepared{sms: smsOf(&up), mask: p.attrs.mask(up.Attributes), row: bytes.Clone(row)}
	up.Attributes = nil // the SMS alone is given back when the batch is handled
	pr.up = up
	m.Prepared = pr
	return len(row) + 1
}

// decodeItem reads message i of a batch: prepared as it arrived, or
// decoded now.
func decodeItem(i int, m *pipeline.Msg) (*item, error) {
	it := &item{idx: i}
	if pr, ok := m.Prepared.(*prepared); ok {
		it.up, it.prep, it.sms = &pr.up, pr, pr.sms
	} else {
		it.up = new(proto.ContactUpsert)
		if err := proto.Decode(m.Data, it.up); err != nil {
			return nil, err
		}
		it.sms = smsOf(it.up)
	}
	it.email = it.up.Email
	it.leftOff = mappedLeftOff(it.up)
	return it, nil
}

// attributes are the upsert's attributes as sent: decoded again from the
// message (read again from the stream: the worker let go of it) when the
// batch holds only its row.
func (it *item) attributes(ctx context.Context, m *pipeline.Msg) (map[string]any, error) {
	if it.prep == nil {
		return it.up.Attributes, nil
	}
	if err := m.Load(ctx); err != nil {
		return nil, fmt.Errorf("contact %s: %w", it.up.Key, err)
	}
	var up proto.ContactUpsert
	if err := proto.Decode(m.Data, &up); err != nil {
		return nil, fmt.Errorf("decoding contact %s again: %w", it.up.Key, err)
	}
	return up.Attributes, nil
}

// Prepare is what the loader's worker does with each upsert as it arrives
// (pipeline.Config.Prepare): it encodes its row once and returns the
// row's bytes. HandleBatch handles prepared and unprepared messages alike.
func (l *Loader) Prepare(m *pipeline.Msg) int { return l.prep.prepare(m) }
