package loader

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/kvmap"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// Brevo keeps email and SMS unique across contacts, while Braze lets several
// users share them. Sent as is, a second user would silently merge into the
// first one's contact (an import matches on email), be refused (a single
// upsert), or be dropped without a word (an import row whose SMS another
// contact holds). The loader records which record key owns each identifier
// (tajo_claims) and, for a record whose identifier another record owns:
//   - email: a record with an ext_id (or, lacking one, an SMS of its own) is
//     written without the email; one with no other identifier is
//     dead-lettered as duplicate_email;
//   - SMS: the record is written without SMS.
//
// What was left off is kept as a side letter in the DLQ (email_taken,
// sms_taken) that does not hold the contact back. The first record to
// claim an identifier keeps it.
//
// Claims are written ahead of the Brevo write, with a compare-and-set that
// decides on the value it replaces, so two batches (or replicas) never both
// take one identifier, and a loader killed between Brevo's write and its
// own bookkeeping leaves the claim of what Brevo now holds. A claim whose
// write then fails for good is released with the dead letter; the
// identifiers a contact no longer holds are released once its new ones are
// written.

const (
	smsAttr              = brevo.AttrSMS
	reasonDuplicateEmail = "duplicate_email"
	reasonEmailTaken     = "email_taken"
	reasonSMSTaken       = "sms_taken"
)

func emailClaim(email string) string { return proto.EmailClaim(email) }

// legacyKey is the record key an email claim was made for when users
// without an ext_id were keyed by their email.
func legacyKey(claim string) string {
	if strings.HasPrefix(claim, proto.EmailClaim("")) {
		return claim
	}
	return ""
}
func smsClaim(sms string) string { return proto.SMSClaim(sms) }

func smsOf(up *proto.ContactUpsert) string { return brevo.SMSOf(up.Attributes) }

// claim takes the email and SMS of every item for its key, leaving off (with
// a side letter) or dead-lettering what another key owns, as described
// above. It records in each item the claims it newly made.
func (l *Loader) claim(ctx context.Context, items []*item, errs []error) ([]*item, error) {
	// An identifier the contact already holds (its applied record says it
	// was claimed and written) is its own: only a release, after a write
	// without it, gives a claim up. Only the others are read and claimed.
	want := map[string]string{}           // claim id -> the key asking for it (first asker in the batch)
	held := map[string]string{}           // claim id -> the key holding it already
	asks := make([][2]string, len(items)) // each item's email and SMS claim ids ("": none), made once
	for k, it := range items {
		asks[k] = it.claimIDs()
		for j, id := range asks[k] {
			switch {
			case id == "":
			case it.holds(j):
				held[id] = it.up.Key
			default:
				if _, ok := want[id]; !ok {
					want[id] = it.up.Key
				}
			}
		}
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	owners, err := l.claims.Modify(ctx, ids, func(id, cur string, ok bool) (string, bool, bool) {
		switch {
		case !ok:
			return want[id], true, false
		case cur == legacyKey(id):
			// Written before users without an ext_id were keyed by their
			// braze_id: the claim of their email named the email itself.
			return want[id], true, false
		}
		return cur, false, false
	})
	if err != nil {
		return items, fmt.Errorf("claiming emails and SMS: %w", err)
	}
	for id, key := range held {
		if _, ok := owners[id]; !ok { // another item asked for it too: the claim read decides
			owners[id] = key
		}
	}
	keep := make([]*item, 0, len(items))
	var dropped []*item
	for k, it := range items {
		key := it.up.Key
		emailID, smsID := asks[k][0], asks[k][1]
		for j, id := range asks[k] {
			if id != "" && owners[id] == key && !it.holds(j) {
				it.fresh = append(it.fresh, id)
			}
		}
		if emailID != "" && owners[emailID] != key {
			if it.up.ExtID == "" && (smsID == "" || owners[smsID] != key) {
				// Handed over again each run while contested (to be
				// written once the email is free): one letter says so,
				// not one a run, until the user or the holder changes.
				errs[it.idx] = pipeline.PermanentOnce(reasonDuplicateEmail, contestedOnce(key, it.email, owners[emailID], it.up.Fingerprint), fmt.Errorf(
					"contact %s: email %s already belongs to the Brevo contact of Braze user %s; "+
						"Brevo keeps emails unique and this user has no other identifier, so it is not synced until one of them changes",
					key, it.email, owners[emailID]))
				dropped = append(dropped, it)
				continue
			}
			// An ext_id, or else the SMS, identifies the contact without it.
			it.leftOff = append(it.leftOff, leftOff{reason: reasonEmailTaken, detail: fmt.Sprintf(
				"contact %s: email %s already belongs to the Brevo contact of Braze user %s (Brevo keeps emails unique); "+
					"synced without email", key, it.email, owners[emailID])})
			it.email = ""
		}
		if smsID != "" && owners[smsID] != key {
			it.leftOff = append(it.leftOff, leftOff{reason: reasonSMSTaken, detail: fmt.Sprintf(
				"contact %s: SMS %s already belongs to the Brevo contact of Braze user %s (Brevo keeps SMS unique); synced without SMS",
				key, it.sms, owners[smsID])})
			it.sms = ""
		}
		keep = append(keep, it)
	}
	// A record dead-lettered here gives back at once what it took.
	if err := l.release(ctx, dropped, func(it *item) []string { return it.fresh }); err != nil {
		return keep, err
	}
	return keep, nil
}

// contestedOnce names a contested email's failure for the DLQ (see
// pipeline.PermanentOnce): the contact, the email, who holds it and the
// contact's content.
func contestedOnce(key, email, holder, fingerprint string) string {
	return proto.MsgID("contested."+reasonDuplicateEmail, key, []byte(email+"\x00"+holder+"\x00"+fingerprint))
}

// claimIDs are the claims an item asks for: its email's and its SMS's
// ("" for one it has not).
func (it *item) claimIDs() (ids [2]string) {
	if it.email != "" {
		ids[0] = emailClaim(it.email)
	}
	if it.sms != "" {
		ids[1] = smsClaim(it.sms)
	}
	return ids
}

// holds reports whether the item's contact held, before this write (its
// applied record), the identifier of claimIDs()[j]: its email (0) or SMS
// (1).
func (it *item) holds(j int) bool {
	if j == 0 {
		return it.email != "" && it.before().Email == it.email
	}
	return it.sms != "" && it.before().SMS == it.sms
}

// release gives up, for each item, the claims ids(it) names that its key
// still owns.
func (l *Loader) release(ctx context.Context, items []*item, ids func(*item) []string) error {
	owner := map[string]string{}
	for _, it := range items {
		for _, id := range ids(it) {
			owner[id] = it.up.Key
		}
	}
	if len(owner) == 0 {
		return nil
	}
	_, err := l.claims.Modify(ctx, keysOf(owner), releaseIf(owner))
	if err != nil {
		return fmt.Errorf("releasing %d identifier claims: %w", len(owner), err)
	}
	return nil
}

// releaseIf deletes a claim only while the given key still owns it.
func releaseIf(owner map[string]string) kvmap.ModifyFunc {
	return func(id, cur string, ok bool) (string, bool, bool) {
		return "", false, ok && cur == owner[id]
	}
}

// stale lists the identifiers a written item's contact held before and
// holds no longer: those the write replaced. One written without (another
// user holds its new one, or Braze has none now) is not released: Brevo
// never has an identifier cleared (cleared.go), so the contact still holds
// it, and a claim given back would let another user's row be merged into
// it by email or refused for its SMS.
func (it *item) stale() []string {
	var ids []string
	if b := it.before().Email; b != "" && it.email != "" && b != it.email {
		ids = append(ids, emailClaim(b))
	}
	if b := it.before().SMS; b != "" && it.sms != "" && b != it.sms {
		ids = append(ids, smsClaim(b))
	}
	return ids
}

// heldAfter are the email and SMS the item's contact holds once written:
// what it was written with, else what it held before (see stale).
func (it *item) heldAfter() (email, sms string) {
	email, sms = it.email, it.sms
	if email == "" {
		email = it.before().Email
	}
	if sms == "" {
		sms = it.before().SMS
	}
	return email, sms
}

// flags are the ledger flags of what the item was written without.
func (it *item) flags() ledger.Flags {
	var f ledger.Flags
	for _, lo := range it.leftOff {
		switch lo.reason {
		case reasonEmailTaken, mapping.ReasonInvalidEmail:
			f |= ledger.WithoutEmail
		case reasonSMSTaken:
			f |= ledger.WithoutSMS
		}
	}
	return f
}

// leftOff is an identifier a contact was written without, and why; stage
// is the stage whose letter it is: the loader's for a claim another contact
// holds, the transformer's for what the mapping left off.
type leftOff struct {
	reason, detail, stage string
}

// mappedLeftOff is what the mapping left off up, as the transformer's
// letters.
func mappedLeftOff(up *proto.ContactUpsert) []leftOff {
	var out []leftOff
	for _, lo := range up.LeftOff {
		out = append(out, leftOff{reason: lo.Reason, detail: lo.Detail, stage: proto.StageTransformer})
	}
	return out
}

// sideLetters records in the DLQ what each item will be written without,
// of what it did not record before.
// They do not hold the contact back: the message is acked, and a replay of
// one sends the record again (the identifier still taken, it is written
// without it again).
//
// The operator is told once a batch, not once a contact (a first sync of a
// million users has thousands): a warning with the count by reason and
// where the letters are; each contact's line is at debug level.
func (l *Loader) sideLetters(ctx context.Context, items []*item, batch []*pipeline.Msg, errs []error) {
	var (
		mu     sync.Mutex
		counts map[string]int
		wg     sync.WaitGroup
		slots  = make(chan struct{}, sideLetterWriters)
	)
	for _, it := range items {
		if it.lettered >= len(it.leftOff) {
			continue
		}
		// Each letter is a read of its message and a publish awaiting
		// its acknowledgement: a batch's hundreds go side by side.
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			for _, lo := range it.leftOff[it.lettered:] {
				stage := cmp.Or(lo.stage, proto.StageLoader)
				if err := pipeline.PublishSideLetter(ctx, l.js, stage, lo.reason, lo.detail, batch[it.idx],
					it.up.RunID, it.up.Key, it.up.Fingerprint); err != nil {
					// Retried, the record is claimed and recorded again (once).
					errs[it.idx] = fmt.Errorf("recording that contact %s was synced without an identifier: %w", it.up.Key, err)
					return
				}
				it.lettered++
				mu.Lock()
				if counts == nil {
					counts = map[string]int{}
				}
				counts[stage+"."+lo.reason]++
				mu.Unlock()
				l.log.Debug("contact synced without an identifier", "key", proto.KeyHash(it.up.Key), "reason", lo.reason)
			}
		})
	}
	wg.Wait()
	if len(counts) > 0 {
		l.log.Warn("contacts synced without an identifier; each one's letter is in the DLQ (tajo dlq list)",
			"contacts", sideLetterSummary(counts))
	}
}

// sideLetterWriters bounds the side letters a batch records at once.
const sideLetterWriters = 16

// sideLetterSummary is "loader.email_taken=12 transformer.invalid_email=3",
// reasons in order.
func sideLetterSummary(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, counts[k])
	}
	return b.String()
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func withoutSMS(attrs map[string]any) map[string]any {
	out := make(map[string]any, len(attrs))
	for k, v := range attrs {
		if k != smsAttr {
			out[k] = v
		}
	}
	return out
}
