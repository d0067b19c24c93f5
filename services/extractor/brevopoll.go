package extractor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// The Brevo side of a two-way sync is read two ways: Brevo's webhooks
// (through the gateway) and this poller, which reads the contacts modified
// since a watermark and publishes each on raw.brevo.contacts. The poller is
// the one that misses nothing: webhooks are lost when the gateway is down
// and Brevo batches them for minutes.
//
// GET /contacts?modifiedSince=W pages by offset over a set that changes
// while it is read: a contact modified meanwhile joins the set (its place
// is its creation order, sort=asc) and shifts the rows after it right, so
// rows come twice; a contact deleted meanwhile shifts them left, so a row
// would be skipped. Contact ids grow with creation, so in ascending order
// the ids of a pass only grow: each page is asked for from the position of
// the last row read, whose id must come back first. A smaller id first
// means rows were inserted (those already read are skipped by id); a
// larger one means rows were removed before it, and the pass steps back a
// page and reads forward again, skipping what it has. Contacts that joined
// before the current position were modified after the pass began, and the
// next pass reads them: the watermark of the next pass is this pass's start
// minus Overlap (which also absorbs clock skew between Brevo and us). The
// contacts of that overlap window are remembered (id and modifiedAt) in the
// cursor, so the next pass does not publish them again unless they changed.

// PollLease is the lease the polling replica holds: one poller at a time.
const PollLease = "brevo.poll"

// PollCursorKey is the state bucket key of the poller's cursor.
const PollCursorKey = "cursor.brevo.contacts"

// BrevoContacts is what the poller needs from a Brevo client.
type BrevoContacts interface {
	ListContacts(ctx context.Context, p brevo.ListContactsParams) (brevo.ContactsPage, error)
}

// PollConfig tunes the Brevo poller.
type PollConfig struct {
	// Interval between polls; default 1m.
	Interval time.Duration
	// Overlap is how far before the last poll's start the next one reads
	// again; default 2m.
	Overlap time.Duration
	// PageSize is the contacts asked for per page (≤ 1000); default 500.
	PageSize int
	// Instance names this replica in the lease.
	Instance string
	// LeaseTTL: a poller that stopped refreshing its lease this long is
	// replaced; default DefaultLeaseTTL.
	LeaseTTL time.Duration
	Logger   *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (c PollConfig) withDefaults() PollConfig {
	if c.Interval <= 0 {
		c.Interval = time.Minute
	}
	if c.Overlap <= 0 {
		c.Overlap = 2 * time.Minute
	}
	if c.PageSize <= 0 {
		c.PageSize = 500
	}
	c.PageSize = min(c.PageSize, brevo.MaxContactsPage)
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// pollCursor is what the poller keeps between passes.
type pollCursor struct {
	// Since is the next pass's modifiedSince (RFC 3339, ms).
	Since time.Time `json:"since"`
	// Recent are the contacts published with a modifiedAt at or after
	// Since: id -> modifiedAt (unix ms). A re-read of one unchanged is not
	// published again.
	Recent map[string]int64 `json:"recent,omitempty"`
	// LastPoll and LastCount describe the last pass, for status.
	LastPoll  time.Time `json:"last_poll"`
	LastCount int       `json:"last_count"`
}

// PollResult describes one pass.
type PollResult struct {
	Read      int // rows read, repeats included
	Published int // contacts published
	Repeated  int // rows skipped: read already in this pass, or unchanged since the last
	StepBacks int // pages read again because rows before them were removed
	Since     time.Time
}

// Poller publishes the Brevo contacts modified since its watermark.
type Poller struct {
	js  jetstream.JetStream
	st  *state.Store
	c   BrevoContacts
	cfg PollConfig
	log *slog.Logger
}

// NewPoller builds a poller; the streams and the state bucket must be
// provisioned.
func NewPoller(js jetstream.JetStream, st *state.Store, c BrevoContacts, cfg PollConfig) (*Poller, error) {
	if js == nil || st == nil || c == nil {
		return nil, errors.New("brevo poller: JetStream, the state store and a Brevo client are required")
	}
	cfg = cfg.withDefaults()
	return &Poller{js: js, st: st, c: c, cfg: cfg, log: cfg.Logger.With("worker", "brevo-poller")}, nil
}

// Run polls every Interval while this replica holds the poll lease, until
// ctx is done. A failed pass is logged and tried again at the next tick;
// its watermark does not move, so nothing is lost.
func (p *Poller) Run(ctx context.Context) error {
	holder := p.cfg.Instance + "/" + strconv.FormatInt(time.Now().UnixNano(), 10)
	for ctx.Err() == nil {
		lease, err := p.st.AcquireLease(ctx, PollLease, holder, p.cfg.LeaseTTL)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("brevo poller: %w", err)
		}
		p.lead(ctx, lease)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = lease.Release(rctx)
		cancel()
	}
	return nil
}

// lead polls until ctx is done or the lease is lost.
func (p *Poller) lead(ctx context.Context, lease *state.Lease) {
	refresh := time.NewTicker(p.cfg.LeaseTTL / 4)
	defer refresh.Stop()
	next := time.NewTimer(0)
	defer next.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-refresh.C:
			if err := lease.Refresh(ctx); err != nil {
				p.log.Warn("lost the poll lease", "err", err)
				return
			}
		case <-next.C:
			if res, err := p.PollOnce(ctx); err != nil {
				p.log.Warn("polling Brevo contacts failed; the next poll reads the same window again", "err", err)
			} else if res.Published > 0 {
				p.log.Info("polled Brevo contacts", "published", res.Published, "read", res.Read, "since", res.Since)
			}
			next.Reset(p.cfg.Interval)
		}
	}
}

func (p *Poller) cursor(ctx context.Context) (pollCursor, jetstream.KeyValueEntry, error) {
	var c pollCursor
	e, err := p.st.KeyValue().Get(ctx, PollCursorKey)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return c, nil, nil
	case err != nil:
		return c, nil, fmt.Errorf("reading the poll cursor: %w", err)
	}
	if err := json.Unmarshal(e.Value(), &c); err != nil {
		return c, nil, fmt.Errorf("reading the poll cursor: %w", err)
	}
	return c, e, nil
}

// PollOnce reads every contact modified since the watermark, publishes the
// ones not published already, and moves the watermark to this pass's start
// minus Overlap. The first pass of a new deployment reads from Overlap ago:
// the two-way sync carries the changes made from its start.
func (p *Poller) PollOnce(ctx context.Context) (PollResult, error) {
	start := p.cfg.Now()
	cur, entry, err := p.cursor(ctx)
	if err != nil {
		return PollResult{}, err
	}
	if cur.Since.IsZero() {
		cur.Since = start.Add(-p.cfg.Overlap)
	}
	res := PollResult{Since: cur.Since}
	next := pollCursor{Since: start.Add(-p.cfg.Overlap), Recent: map[string]int64{}, LastPoll: start}
	pub := pipeline.NewPublisher(p.js, 2*p.cfg.PageSize)
	limit := p.cfg.PageSize
	var (
		offset int   // where the next page starts
		lastID int64 // the last id read in this pass; ids only grow
	)
	for steps := 0; ; steps++ {
		if steps > 100000 {
			return res, errors.New("polling Brevo contacts: the pass does not end (the set keeps shifting)")
		}
		page, err := p.c.ListContacts(ctx, brevo.ListContactsParams{Limit: limit, Offset: offset, ModifiedSince: cur.Since, Sort: "asc"})
		if err != nil {
			return res, fmt.Errorf("polling Brevo contacts modified since %s (offset %d): %w", cur.Since.Format(time.RFC3339), offset, err)
		}
		rows := page.Contacts
		res.Read += len(rows)
		if offset > 0 && len(rows) > 0 && rows[0].ID > lastID {
			// The row at our position is newer than the last one read:
			// rows before it went away and one may have slipped past.
			res.StepBacks++
			offset = max(offset-limit, 0)
			continue
		}
		for _, ct := range rows {
			if ct.ID <= lastID {
				res.Repeated++
				continue
			}
			lastID = ct.ID
			mod := ct.ModifiedAt.UnixMilli()
			id := strconv.FormatInt(ct.ID, 10)
			if !ct.ModifiedAt.Before(next.Since) {
				next.Recent[id] = mod
			}
			if prev, ok := cur.Recent[id]; ok && prev == mod {
				res.Repeated++
				continue
			}
			if err := p.publish(ctx, pub, ct, start); err != nil {
				return res, err
			}
			res.Published++
		}
		if len(rows) < limit {
			break
		}
		// The next page starts at the last row read, which must come back
		// first (see above).
		offset += len(rows) - 1
	}
	if err := pub.Flush(ctx); err != nil {
		return res, fmt.Errorf("publishing polled Brevo contacts: %w", err)
	}
	next.LastCount = res.Published
	raw, _ := json.Marshal(next)
	if entry == nil {
		_, err = p.st.KeyValue().Create(ctx, PollCursorKey, raw)
	} else {
		_, err = p.st.KeyValue().Update(ctx, PollCursorKey, raw, entry.Revision())
	}
	if err != nil {
		// Another poller moved the cursor (a lease lost meanwhile): its pass
		// stands; this one's contacts were published, harmlessly twice.
		return res, fmt.Errorf("saving the poll cursor: %w", err)
	}
	return res, nil
}

func (p *Poller) publish(ctx context.Context, pub *pipeline.Publisher, ct brevo.ContactInfo, start time.Time) error {
	js, err := json.Marshal(ct)
	if err != nil {
		return fmt.Errorf("encoding Brevo contact %d: %w", ct.ID, err)
	}
	msg := &proto.RawContact{V: proto.SchemaVersion, ID: ct.ID, ModifiedAt: ct.ModifiedAt.UnixMilli(), PolledAt: start.UnixMilli(), JSON: js}
	data, err := proto.Encode(msg)
	if err != nil {
		return fmt.Errorf("encoding Brevo contact %d: %w", ct.ID, err)
	}
	hdr := nats.Header{}
	hdr.Set(proto.HeaderSchema, "1")
	id := "brevo.contact:" + strconv.FormatInt(ct.ID, 10) + ":" + strconv.FormatInt(msg.ModifiedAt, 10)
	if err := pub.Publish(ctx, proto.SubjectRawBrevoContacts, id, hdr, data); err != nil {
		return fmt.Errorf("publishing Brevo contact %d: %w", ct.ID, err)
	}
	return nil
}
