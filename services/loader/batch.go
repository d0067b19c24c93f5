package loader

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/restcall"
	"github.com/tajo-sync/tajo/proto"
)

// item is one decoded upsert of a batch.
type item struct {
	idx int
	// up is the upsert; its Attributes are dropped once its row is encoded
	// (or as it arrived, prepare.go). Prepared, it is the prepared upsert's,
	// shared: never written through. A batch holds an item for each of its
	// upserts until the import completes, so an item is kept small.
	up *proto.ContactUpsert
	// email and sms are what the contact is written with: the upsert's,
	// unless another contact holds them (claims.go) or Brevo said so.
	email, sms string
	// prev is what was applied for the key before (nil: nothing); read it
	// through before().
	prev *proto.Applied
	// create: the loader counts the write as a creation (dropStale decides,
	// from what it recorded as applied; nothing upstream does).
	create bool
	// cleared are the attributes written before and absent now (cleared.go).
	cleared []string
	// mask is the mapping's attributes the write holds (cleared.go).
	mask string
	// fresh are the identifier claims this write took that the contact did
	// not hold before: given back if the write fails for good.
	fresh []string
	// leftOff are the identifiers the contact is written without; the
	// first lettered of them are recorded in the DLQ.
	leftOff  []leftOff
	lettered int
	// prep is the upsert as it arrived (prepare.go); nil: decoded here.
	prep *prepared
}

// HandleBatch writes a batch of upserts: duplicates of a key collapse to the
// newest version, stale and already-applied ones are skipped, identifiers
// are claimed (claims.go), then each contact is encoded once as a row and
// the rows go to one sink (sink.go): an import, single upserts, or a dry
// run's plan. What Brevo confirmed is recorded.
func (l *Loader) HandleBatch(ctx context.Context, batch []*pipeline.Msg) []error {
	errs := make([]error, len(batch))
	latest := make(map[string]*item, len(batch))
	for i, m := range batch {
		it, err := decodeItem(i, m)
		if err != nil {
			errs[i] = pipeline.Permanent("bad_payload", err)
			continue
		}
		if prev, ok := latest[it.up.Key]; ok {
			if sameLine(batch[prev.idx], m) {
				// A second copy of the same line (redelivered beside its
				// original after a node was lost): nothing merged, the
				// copy handled settles the line. Marked merged, this one
				// would win over a dead letter in the run's ledger.
				continue
			}
			if prev.up.SourceVersion > it.up.SourceVersion {
				m.Settle(ledger.Merged, 0)
				continue
			}
			batch[prev.idx].Settle(ledger.Merged, 0)
		}
		latest[it.up.Key] = it
	}
	items := make([]*item, 0, len(latest))
	for _, it := range latest {
		items = append(items, it)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].idx < items[j].idx })
	fail := func(items []*item, err error) []error {
		for _, it := range items {
			errs[it.idx] = err
		}
		return errs
	}
	// A key another batch of this process is writing right now (a second
	// copy of an upsert, published again after the dedup window) waits for
	// that write to be recorded: handled side by side, both would be
	// written. Taken before the applied versions are read: a key free here
	// was recorded before (busy is given back after the bookkeeping).
	items, release := l.busy(items, errs)
	defer release()
	items, stale, same, err := l.dropStale(ctx, items)
	if err != nil {
		return fail(items, err)
	}
	for _, it := range stale {
		batch[it.idx].Settle(ledger.Stale, 0)
	}
	for _, it := range same {
		// The same content again. Written by this very run (a redelivery
		// after the write, before its acknowledgement), it is what that
		// write was; else there was nothing to do.
		if o, f := ledger.Unpack(it.before().Outcome); it.before().Run == proto.RunTag(it.up.RunID) && o != ledger.None {
			batch[it.idx].Settle(o, f)
			continue
		}
		batch[it.idx].Settle(ledger.Unchanged, it.leftOffFlags())
	}
	all := items
	if items, err = l.claim(ctx, items, errs); err != nil {
		return fail(all, err)
	}

	// What a contact is written without is recorded before the write: a
	// loader killed after it would, handled again, find the write applied.
	l.sideLetters(ctx, items, batch, errs)
	items = slices.DeleteFunc(items, func(it *item) bool { return errs[it.idx] != nil })

	rows, items := l.encode(ctx, items, batch, errs)
	var (
		done    []*item
		imports []int64 // the imports this batch made
	)
	for k, r := range l.sink(rows.Len()).Write(ctx, rows) {
		it := items[k]
		if r.Err != nil {
			errs[it.idx] = r.Err
			continue
		}
		if r.Import != 0 && !r.Earlier && !slices.Contains(imports, r.Import) {
			imports = append(imports, r.Import)
		}
		if r.WithoutSMS {
			it.leftOff = append(it.leftOff, leftOff{reason: reasonSMSTaken, detail: fmt.Sprintf(
				"contact %s: Brevo answered that its SMS already belongs to another contact; synced without SMS", it.up.Key)})
			it.sms = ""
		}
		done = append(done, it)
	}
	// The writes happened: their bookkeeping is retried here, through a
	// server failing over (a bucket's leader lost), rather than by
	// redelivery, which would write the same rows to Brevo again.
	if err := bookkeeping.Do(ctx, func(ctx context.Context) error {
		return l.settleClaims(ctx, items, done, errs)
	}); err != nil {
		// Still failing: redelivery finds them imported (importlog.go)
		// and records them then.
		return fail(done, err)
	}
	// Recorded: the imports' records are not needed any more.
	if err := l.sinks.imports.records.forget(ctx, imports); err != nil {
		l.log.Warn("an import's record stays until it expires", "err", err)
	}
	// Brevo may have refused an SMS the claims did not know of (single
	// upserts): record that too (only that: the side letters recorded
	// above are not published again).
	l.sideLetters(ctx, done, batch, errs)
	for _, it := range done {
		batch[it.idx].Settle(it.outcome(), it.flags())
	}
	for _, it := range all {
		var pe *pipeline.PermanentError
		switch {
		case !errors.As(errs[it.idx], &pe):
		case pe.Reason == reasonDuplicateEmail:
			batch[it.idx].Settle(ledger.DeadLettered, ledger.Contested) // another user holds its email
		default:
			batch[it.idx].Settle(ledger.DeadLettered, ledger.Refused) // Brevo refused the write
		}
	}
	return errs
}

// sameLine reports whether a and b carry the same line of the same run.
func sameLine(a, b *pipeline.Msg) bool {
	ra, la, oka := a.Line()
	rb, lb, okb := b.Line()
	return oka && okb && ra == rb && la == lb
}

// encode makes each item the row Brevo is to hold: its attributes, those
// to clear sent empty, and the identifiers the claims left it. The row
// encoded as the upsert arrived serves when nothing changed it. It returns
// the rows and their items, index for index; an item that cannot be
// encoded gets its error. The decoded attributes are dropped once encoded.
func (l *Loader) encode(ctx context.Context, items []*item, batch []*pipeline.Msg, errs []error) (*Rows, []*item) {
	rows := &Rows{}
	kept := items[:0:0]
	for _, it := range items {
		meta := RowMeta{Key: it.up.Key, Create: it.create, Version: it.up.SourceVersion}
		sms := it.sms
		if p := it.prep; p != nil && len(it.cleared) == 0 && it.email == p.up.Email && sms == p.sms {
			rows.addRow(p.row, meta)
			p.row = nil // the rows hold it now, and let go of it once imported
			it.mask = p.mask
			kept = append(kept, it)
			continue
		}
		attrs, err := it.attributes(ctx, batch[it.idx])
		if err != nil {
			errs[it.idx] = err // the stream could not be read: retried
			continue
		}
		it.mask = l.attrSet.mask(attrs)
		attrs = maps.Clone(attrs)
		if sms == "" {
			delete(attrs, smsAttr) // the claims left it off
		}
		for _, n := range it.cleared {
			attrs[n] = ""
		}
		if err := rows.Add(brevo.ImportContact{Email: it.email, ExtID: it.up.ExtID, Attributes: attrs}, meta); err != nil {
			errs[it.idx] = pipeline.Permanent("bad_contact", err)
			continue
		}
		it.up.Attributes = nil // encoded: the row holds them
		kept = append(kept, it)
	}
	return rows, kept
}

// sink is where n rows go: the dry run's plan, an import from
// ImportThreshold rows, else single upserts.
func (l *Loader) sink(n int) Sink {
	switch {
	case l.cfg.DryRun:
		return l.sinks.plan
	case n >= l.cfg.ImportThreshold:
		return l.sinks.imports
	}
	return l.sinks.upserts
}

// bookkeeping retries what the loader records after Brevo confirmed a
// write: any failure (a server electing a leader, a lost connection) is
// worth another attempt, for as long as a JetStream failover takes.
var bookkeeping = resilience.Policy{
	Backoff:     restcall.Backoff{Initial: 250 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2},
	MaxAttempts: 40, MaxElapsed: 2 * time.Minute,
	Retryable: func(error) bool { return true },
}

// settleClaims records what Brevo confirmed for the written items (their
// applied version, fingerprint and identifiers, so the next sync skips them
// and a stale version is never applied over them), gives back the
// identifiers they no longer hold, and gives back the fresh claims of the
// items whose write failed for good.
func (l *Loader) settleClaims(ctx context.Context, items, done []*item, errs []error) error {
	applied := make(map[string]string, len(done))
	for _, it := range done {
		email, sms := it.heldAfter()
		applied[it.up.Key] = proto.Applied{Version: it.up.SourceVersion, Fingerprint: it.up.Fingerprint,
			Email: email, SMS: sms, Attrs: it.mask,
			Run: proto.RunTag(it.up.RunID), Outcome: ledger.Cell(it.outcome(), it.flags())}.String()
	}
	if err := l.fps.PutMany(ctx, applied); err != nil {
		return fmt.Errorf("recording %d applied contacts: %w", len(applied), err)
	}
	if err := l.release(ctx, done, (*item).stale); err != nil {
		return err
	}
	var refused []*item
	for _, it := range items {
		var pe *pipeline.PermanentError
		if errors.As(errs[it.idx], &pe) {
			refused = append(refused, it)
		}
	}
	return l.release(ctx, refused, func(it *item) []string { return it.fresh })
}

// inflightWait is how long an upsert whose key another batch is writing
// waits before it is handled again.
const inflightWait = time.Second

// busy takes the items' keys for this batch, leaving out (to be retried
// after inflightWait) those another batch of this process holds; release
// gives them back.
func (l *Loader) busy(items []*item, errs []error) (mine []*item, release func()) {
	l.inflightMu.Lock()
	defer l.inflightMu.Unlock()
	mine = items[:0:0]
	for _, it := range items {
		if l.inflight[it.up.Key] {
			errs[it.idx] = pipeline.RetryAfter(inflightWait, fmt.Errorf("contact %s is being written by another batch", proto.KeyHash(it.up.Key)))
			continue
		}
		l.inflight[it.up.Key] = true
		mine = append(mine, it)
	}
	return mine, func() {
		l.inflightMu.Lock()
		defer l.inflightMu.Unlock()
		for _, it := range mine {
			delete(l.inflight, it.up.Key)
		}
	}
}

// none is the applied record of a key nothing was applied for.
var none proto.Applied

// before is what was applied for the item's key before (zero: nothing); not
// to be written through.
func (it *item) before() *proto.Applied {
	if it.prev == nil {
		return &none
	}
	return it.prev
}

// outcome is what writing the item counts as.
func (it *item) outcome() ledger.Outcome {
	if it.create {
		return ledger.Created
	}
	return ledger.Updated
}

// dropStale removes the upserts older than the version already applied for
// their key (a redelivered message from an earlier run overtaken by a later
// one: applying it would overwrite newer data with older) and those whose
// exact content was already applied (a duplicate: nothing to do). It also
// decides create vs update from what was applied (the loader alone decides
// it), so a duplicate never counts as a second creation, and which
// attributes an update clears.
func (l *Loader) dropStale(ctx context.Context, items []*item) (fresh, stale, same []*item, err error) {
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.up.Key
	}
	applied, err := l.fps.GetMany(ctx, keys)
	if err != nil {
		return items, nil, nil, fmt.Errorf("reading applied versions: %w", err)
	}
	fresh = items[:0:0]
	for _, it := range items {
		a, seen := applied[it.up.Key]
		prev := proto.DecodeApplied(a)
		if seen {
			it.prev = &prev
		}
		switch {
		case seen && it.up.SourceVersion < prev.Version:
			l.log.Info("skipping a stale upsert", "key", proto.KeyHash(it.up.Key), "version", it.up.SourceVersion, "applied", prev.Version)
			stale = append(stale, it)
		case seen && prev.Fingerprint == it.up.Fingerprint:
			same = append(same, it)
		default:
			fresh = append(fresh, l.toWrite(it, seen))
		}
	}
	same, retry, err := l.retryLeftOff(ctx, same)
	if err != nil {
		return items, nil, nil, err
	}
	for _, it := range retry {
		fresh = append(fresh, l.toWrite(it, true))
	}
	return fresh, stale, same, nil
}

// toWrite readies an item dropStale lets through: a creation unless seen,
// else with the attributes it clears.
func (l *Loader) toWrite(it *item, seen bool) *item {
	it.create = !seen
	switch {
	case !seen:
	case it.prep != nil:
		it.cleared = l.attrSet.clearedMasks(it.before().Attrs, it.prep.mask)
	default:
		it.cleared = l.attrSet.cleared(it.before().Attrs, it.up.Attributes)
	}
	return it
}

// retryLeftOff takes out of same (contacts whose content is as applied)
// those written without an email or SMS they have, because another user
// held it, which that user has let go since: nobody claims it any more.
// Written again, they get it (claims.go); unchanged, they would go without
// it until their Braze record changes. An identifier still claimed stays
// left off without a write: by another user, or by the contact itself
// when Brevo refused it (another contact of the account, outside the
// connector, holds it), which a write would only be refused again.
func (l *Loader) retryLeftOff(ctx context.Context, same []*item) (still, retry []*item, err error) {
	var ids []string
	for _, it := range same {
		for _, id := range it.leftOffIDs() {
			if id != "" {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return same, nil, nil
	}
	owners, err := l.claims.GetMany(ctx, ids)
	if err != nil {
		return same, nil, fmt.Errorf("reading the claims of identifiers contacts were written without: %w", err)
	}
	still = same[:0:0]
	for _, it := range same {
		free := false
		for _, id := range it.leftOffIDs() {
			if _, claimed := owners[id]; id != "" && !claimed {
				free = true
			}
		}
		if free {
			retry = append(retry, it)
		} else {
			still = append(still, it)
		}
	}
	return still, retry, nil
}

// leftOffIDs are the claims of the email and SMS the item has and its
// contact was written without ("" for each it was not).
func (it *item) leftOffIDs() (ids [2]string) {
	if it.email != "" && it.before().Email != it.email {
		ids[0] = emailClaim(it.email)
	}
	if it.sms != "" && it.before().SMS != it.sms {
		ids[1] = smsClaim(it.sms)
	}
	return ids
}

// leftOffFlags are the ledger flags of an unchanged item still written
// without an identifier it has: the run's ledger says so, and the next
// incremental run hands the line over again, to retry it once freed.
func (it *item) leftOffFlags() ledger.Flags {
	var f ledger.Flags
	ids := it.leftOffIDs()
	if ids[0] != "" {
		f |= ledger.WithoutEmail
	}
	if ids[1] != "" {
		f |= ledger.WithoutSMS
	}
	return f
}

// classify turns an error of a write into what the pipeline should do with
// the message: a record Brevo refuses for good is dead-lettered, a throttle
// waits as Brevo said, anything else (a 5xx, the network, a wait cut short,
// the bus) is retried.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ae *brevo.APIError
	if errors.As(err, &ae) && !brevo.Retryable(err) {
		return pipeline.Permanent(reasonOf(err), err)
	}
	if errors.Is(err, brevo.ErrNoIdentifier) {
		return pipeline.Permanent("no_identifier", err)
	}
	if d := brevo.RetryAfter(err); d > 0 {
		return pipeline.RetryAfter(d, err)
	}
	return err
}

// reasonOf names a permanent Brevo error for the DLQ subject.
func reasonOf(err error) string {
	if ids := brevo.DuplicateIdentifiers(err); len(ids) > 0 {
		return "duplicate_" + strings.ToLower(strings.Join(ids, "_"))
	}
	var ae *brevo.APIError
	if errors.As(err, &ae) {
		if ae.Code != "" {
			return ae.Code
		}
		return fmt.Sprintf("http_%d", ae.Status)
	}
	return "brevo_error"
}

func hasSMS(c brevo.Contact) bool { _, ok := c.Attributes[smsAttr]; return ok }

func isDuplicate(err error, field string) bool {
	for _, id := range brevo.DuplicateIdentifiers(err) {
		if strings.EqualFold(id, field) {
			return true
		}
	}
	return false
}
