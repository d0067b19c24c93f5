package loader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/restcall"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// item is one decoded upsert of a batch.
type item struct {
	idx  int
	up   proto.ContactUpsert
	prev proto.Applied // what was applied for the key before (zero: nothing)
	seen bool          // prev is set
	// fresh are the identifier claims this write took that the contact did
	// not hold before: given back if the write fails for good.
	fresh []string
	// leftOff are the identifiers the contact is written without.
	leftOff []leftOff
}

// HandleBatch writes a batch of upserts: duplicates of a key collapse to the
// newest version, stale and already-applied ones are skipped, identifiers
// are claimed (claims.go), then the batch goes through an import or one by
// one, and what Brevo confirmed is recorded.
func (l *Loader) HandleBatch(ctx context.Context, batch []*pipeline.Msg) []error {
	errs := make([]error, len(batch))
	latest := make(map[string]*item, len(batch))
	for i, m := range batch {
		it := &item{idx: i}
		if err := proto.Decode(m.Data, &it.up); err != nil {
			errs[i] = pipeline.Permanent("bad_payload", err)
			continue
		}
		if prev, ok := latest[it.up.Key]; ok {
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
		if o, f := ledger.Unpack(it.prev.Outcome); it.prev.Run == proto.RunTag(it.up.RunID) && o != ledger.None {
			batch[it.idx].Settle(o, f)
			continue
		}
		batch[it.idx].Settle(ledger.Unchanged, 0)
	}
	// A key another batch of this process is writing right now (a second
	// copy of an upsert, published again after the dedup window) waits for
	// that write to be recorded: handled side by side, both would be written.
	items, release := l.busy(items, errs)
	defer release()
	all := items
	if items, err = l.claim(ctx, items, errs); err != nil {
		return fail(all, err)
	}

	// What a contact is written without is recorded before the write: a
	// loader killed after it would, handled again, find the write applied.
	l.sideLetters(ctx, items, batch, errs)
	items = slices.DeleteFunc(items, func(it *item) bool { return errs[it.idx] != nil })

	var done []*item
	switch {
	case l.cfg.DryRun: // dry run (dryrun.go): record the writes instead
		done = l.planAll(ctx, items, errs)
	case len(items) >= l.cfg.ImportThreshold:
		done = l.importAll(ctx, items, errs)
	default:
		done = l.upsertEach(ctx, items, errs)
	}
	// The writes happened: their bookkeeping is retried here, through a
	// server failing over (a bucket's leader lost), rather than by
	// redelivery, which would write the same rows to Brevo again.
	if err := bookkeeping.Do(ctx, func(ctx context.Context) error {
		return l.settleClaims(ctx, items, done, errs)
	}); err != nil {
		// Still failing: redelivery writes them again (harmless, same
		// content) and records them then.
		return fail(done, err)
	}
	// Brevo may have refused an SMS the claims did not know of (upsertEach):
	// record that too (the side letters recorded above are not stored twice).
	l.sideLetters(ctx, done, batch, errs)
	for _, it := range done {
		batch[it.idx].Settle(it.outcome(), it.flags())
	}
	for _, it := range all {
		var pe *pipeline.PermanentError
		if errors.As(errs[it.idx], &pe) && pe.Reason != reasonDuplicateEmail {
			batch[it.idx].Settle(ledger.DeadLettered, ledger.Refused) // Brevo refused the write
		}
	}
	return errs
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
		applied[it.up.Key] = proto.Applied{Version: it.up.SourceVersion, Fingerprint: it.up.Fingerprint,
			Email: it.up.Email, SMS: smsOf(&it.up), Attrs: l.attrSet.mask(it.up.Attributes),
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

// outcome is what writing the item counts as.
func (it *item) outcome() ledger.Outcome {
	if it.up.Op == proto.OpCreate {
		return ledger.Created
	}
	return ledger.Updated
}

// clear sends empty the attributes the contact was written with before and
// no longer has (cleared.go).
func (l *Loader) clear(it *item) {
	names := l.attrSet.cleared(it.prev.Attrs, it.up.Attributes)
	if len(names) == 0 {
		return
	}
	attrs := make(map[string]any, len(it.up.Attributes)+len(names))
	for k, v := range it.up.Attributes {
		attrs[k] = v
	}
	for _, n := range names {
		attrs[n] = ""
	}
	it.up.Attributes = attrs
}

// importAll writes items through Brevo imports, one at a time, each within
// the body limit, and waits for Brevo to complete each. It returns the items
// confirmed; for the others it sets errs.
func (l *Loader) importAll(ctx context.Context, items []*item, errs []error) []*item {
	l.importMu.Lock()
	defer l.importMu.Unlock()
	return l.importParts(ctx, items, errs)
}

// importParts imports items in parts within the body limit. A part Brevo
// refuses for good is bisected until the records at fault are found, so one
// bad record never sinks the others. Call with importMu held.
func (l *Loader) importParts(ctx context.Context, items []*item, errs []error) []*item {
	var done []*item
	for len(items) > 0 {
		l.batch.Reset()
		n := 0
		for _, it := range items {
			ok, err := l.batch.Add(brevo.ImportContact{Email: it.up.Email, ExtID: it.up.ExtID, Attributes: it.up.Attributes})
			if err != nil {
				errs[it.idx] = pipeline.Permanent("contact_too_large", fmt.Errorf("importing contact %s: %w", it.up.Key, err))
				n++
				continue
			}
			if !ok {
				break
			}
			n++
		}
		part := items[:n]
		items = items[n:]
		err := l.importBatch(ctx)
		var pe *pipeline.PermanentError
		switch {
		case err == nil:
			for _, it := range part {
				if errs[it.idx] == nil {
					done = append(done, it)
				}
			}
		case errors.As(err, &pe):
			l.log.Warn("Brevo refused an import; bisecting it to find the records at fault", "contacts", len(part), "err", err)
			done = append(done, l.bisect(ctx, part, errs)...)
		default:
			for _, it := range part {
				if errs[it.idx] == nil {
					errs[it.idx] = err
				}
			}
		}
	}
	return done
}

// bisect imports each half of a refused part again; below the import
// threshold the records go one by one, where Brevo's answer names the record.
func (l *Loader) bisect(ctx context.Context, part []*item, errs []error) []*item {
	var ok []*item
	for _, it := range part {
		if errs[it.idx] == nil {
			ok = append(ok, it)
		}
	}
	if len(ok) < max(2, l.cfg.ImportThreshold) {
		return l.upsertEach(ctx, ok, errs)
	}
	mid := len(ok) / 2
	return append(l.importParts(ctx, ok[:mid], errs), l.importParts(ctx, ok[mid:], errs)...)
}

// dropStale removes the upserts older than the version already applied for
// their key (a redelivered message from an earlier run overtaken by a later
// one: applying it would overwrite newer data with older) and those whose
// exact content was already applied (a duplicate: nothing to do). It also
// settles create vs update from what was applied, so a duplicate never
// counts as a second creation.
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
			it.prev, it.seen = prev, true
		}
		switch {
		case seen && it.up.SourceVersion < prev.Version:
			l.log.Info("skipping a stale upsert", "key", proto.KeyHash(it.up.Key), "version", it.up.SourceVersion, "applied", prev.Version)
			stale = append(stale, it)
		case seen && prev.Fingerprint == it.up.Fingerprint:
			same = append(same, it)
		default:
			if seen {
				it.up.Op = proto.OpUpdate
				l.clear(it)
			} else {
				it.up.Op = proto.OpCreate
			}
			fresh = append(fresh, it)
		}
	}
	return fresh, stale, same, nil
}

// importLease names the lock that keeps every loader replica to one Brevo
// import at a time; importLeaseTTL is how long a silent holder keeps it.
const (
	importLease    = "brevo.contacts.import"
	importLeaseTTL = 30 * time.Second // refreshed every 7.5 s while importing; a killed holder frees it within 30 s
)

// importBatch imports l.batch and waits for Brevo to complete it, holding
// the import lease throughout.
func (l *Loader) importBatch(ctx context.Context) error {
	if l.batch.Len() == 0 {
		return nil
	}
	lease, err := l.state.AcquireLease(ctx, importLease, l.cfg.Instance, importLeaseTTL)
	if err != nil {
		return fmt.Errorf("waiting for our turn to import: %w", err)
	}
	defer func() {
		if err := lease.Release(context.WithoutCancel(ctx)); err != nil {
			l.log.Warn("releasing the import lease", "err", err)
		}
	}()
	stop := keepLease(ctx, lease, importLeaseTTL/4, l.log)
	defer stop()
	l.log.Info("importing", "rows", l.batch.Len(), "bytes", l.batch.Size(),
		"fill", fmt.Sprintf("%.0f%%", 100*float64(l.batch.Size())/float64(l.cfg.MaxImportBytes)))
	id, err := l.brevo.ImportFromBatch(ctx, l.batch, brevo.ImportOptions{
		ListIDs:                l.cfg.ListIDs,
		UpdateExistingContacts: true,
		// Rows hold empty values only for attributes cleared in Braze
		// (cleared.go): those must erase what Brevo holds.
		EmptyContactsAttributes: true,
		DisableNotification:     true,
	})
	if err == nil {
		var p brevo.Process
		policy, started := l.cfg.PollPolicy, time.Now()
		if policy == (brevo.Backoff{}) {
			policy = l.pace.policy(l.batch.Len())
		}
		p, err = l.brevo.WaitProcess(ctx, id, policy)
		if err == nil && p.Done() {
			l.pace.observe(l.batch.Len(), time.Since(started))
		}
		if err == nil && !p.Done() {
			err = fmt.Errorf("import process %d ended with status %q", id, p.Status)
		}
	}
	if err != nil {
		return classify(fmt.Errorf("importing %d contacts: %w", l.batch.Len(), err))
	}
	return nil
}

// keepLease refreshes lease every period until stop is called.
func keepLease(ctx context.Context, lease *state.Lease, period time.Duration, log *slog.Logger) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := lease.Refresh(ctx); err != nil {
					log.Warn("refreshing the import lease", "err", err)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// upsertEach writes items one by one through POST /contacts. The contacts
// join the same lists an import would put them in.
func (l *Loader) upsertEach(ctx context.Context, items []*item, errs []error) []*item {
	done := make([]*item, 0, len(items))
	for _, it := range items {
		c := brevo.Contact{Email: it.up.Email, ExtID: it.up.ExtID, Attributes: it.up.Attributes, ListIDs: l.cfg.ListIDs}
		_, err := l.brevo.UpsertContact(ctx, c)
		if err != nil && hasSMS(c) && isDuplicate(err, smsAttr) {
			// The phone number belongs to a Brevo contact the connector did
			// not write (or wrote without recording it): keep the rest of the
			// profile in sync and report the conflict.
			it.leftOff = append(it.leftOff, leftOff{reasonSMSTaken, fmt.Sprintf(
				"contact %s: Brevo answered that its SMS already belongs to another contact; synced without SMS", it.up.Key)})
			it.up.Attributes = withoutSMS(it.up.Attributes)
			c.Attributes = it.up.Attributes
			_, err = l.brevo.UpsertContact(ctx, c)
		}
		if err != nil {
			errs[it.idx] = classify(fmt.Errorf("upserting contact %s: %w", it.up.Key, err))
			continue
		}
		// Created or updated is the connector's own fact (dropStale):
		// Brevo's 201 or 204 would count a contact created by an attempt
		// whose answer was lost as updated.
		done = append(done, it)
	}
	return done
}

// classify turns a Brevo error into what the pipeline should do with the message.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if brevo.Retryable(err) {
		if d := brevo.RetryAfter(err); d > 0 {
			return pipeline.RetryAfter(d, err)
		}
		return err
	}
	return pipeline.Permanent(reasonOf(err), err)
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
