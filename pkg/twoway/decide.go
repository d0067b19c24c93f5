package twoway

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/proto"
)

// The decisions, as pure functions of what was observed and the record:
// the Syncer reads records, decides, publishes what the decisions ask
// for, then writes the records (deciding again on the value it replaces
// when another writer got there first).

// AliasLabel is the label of the user alias a contact without an ext_id
// is written to Braze under; the alias name is the Brevo contact id.
const AliasLabel = "brevo_id"

// Observation is what Brevo told about one contact: a poll reads the
// whole contact, a webhook event a part of it.
type Observation struct {
	Key       string // the contact key (Resolve)
	ContactID int64
	ExtID     string
	Email     string
	// Values are Brevo attribute (or mapping.TargetEmail) -> value, as
	// Brevo returns them; only what the observation tells (a poll tells
	// every attribute: one absent there is absent in Brevo, and appears
	// here as nil).
	Values      map[string]any
	Blacklisted *bool // emailBlacklisted, when told
	Deleted     bool
	At          int64 // Brevo's time of the change, unix ms
	// FP is, for a whole contact (a poll), the fingerprint of what the
	// Braze → Brevo mapping would write to hold the same: an export of the
	// user that maps to it has nothing to write.
	FP string
}

// reverseResult is what one observation asks for.
type reverseResult struct {
	update   *proto.BrazeUserUpdate
	delete   *proto.BrazeUserDelete
	deleted  bool // the contact was deleted in Brevo: reported
	stale    bool // not newer than what was handled
	warnings []string
}

// target names the Braze user of a key: an external id, a braze_id (users
// without an external id, keyed "braze:<braze_id>" by the forward
// mapping), or the brevo_id alias (contacts Brevo alone has).
func target(key string) (ext, brazeID, aliasName string) {
	switch {
	case strings.HasPrefix(key, "braze:"):
		return "", strings.TrimPrefix(key, "braze:"), ""
	case strings.HasPrefix(key, "brevo:"):
		return "", "", strings.TrimPrefix(key, "brevo:")
	}
	return key, "", ""
}

// BrevoKey is the key of a contact Brevo alone has (no ext_id, no email
// the forward direction wrote).
func BrevoKey(contactID int64) string { return "brevo:" + strconv.FormatInt(contactID, 10) }

func newUpdate(key string, at int64) *proto.BrazeUserUpdate {
	u := &proto.BrazeUserUpdate{V: proto.SchemaVersion, Key: key, Attributes: map[string]any{},
		Hashes: map[string]uint64{}, SourceVersion: at}
	u.ExternalID, u.BrazeID, u.AliasName = target(key)
	if u.AliasName != "" {
		u.AliasLabel = AliasLabel
	}
	return u
}

// reverse decides what a Brevo observation changes in Braze and in the
// record (rec is not modified; next is the record after).
func (p *Policy) reverse(o Observation, rec *Record) (res reverseResult, next *Record) {
	next = rec.clone()
	if o.At != 0 && o.At <= rec.RV && !o.Deleted {
		res.stale = true
		return res, next
	}
	if o.At > next.RV {
		next.RV = o.At
	}
	if o.ContactID != 0 {
		next.ID = o.ContactID
	}
	if o.FP != "" {
		next.B = o.FP
	}
	if o.Deleted {
		res.deleted = true
		if p.opts.PropagateDeletes {
			d := &proto.BrazeUserDelete{V: proto.SchemaVersion, Key: o.Key}
			d.ExternalID, d.BrazeID, d.AliasName = target(o.Key)
			if d.AliasName != "" {
				d.AliasLabel = AliasLabel
			}
			res.delete = d
		}
		return res, next
	}
	up := newUpdate(o.Key, o.At)
	for _, f := range p.fields {
		v, told := o.Values[f.Brevo]
		if !told {
			continue
		}
		h, ok := f.hash(v)
		if !ok {
			res.warnings = append(res.warnings, fmt.Sprintf("%s (to %s): not a Brevo %s; not synced", f.Brevo, f.Braze, f.Type))
			continue
		}
		if ft := next.F[f.Brevo]; ft > 0 && o.At < ft {
			continue // older than the Braze change being written to Brevo
		}
		cur, known := next.H[f.Brevo]
		if known && h == cur {
			continue
		}
		if !known && h == 0 {
			// Nothing in Brevo, and nothing known of Braze: nothing to tell
			// (an absent value erases only what the sides agreed on).
			set(&next.H, f.Brevo, h)
			continue
		}
		bv, err := f.toBraze(v)
		if err != nil {
			res.warnings = append(res.warnings, err.Error()+"; not synced")
			continue
		}
		up.Attributes[f.Braze] = bv
		up.Hashes[f.Brevo] = h
		if f.Direction == Both && f.Conflict == BrazeWins && known {
			// Written only if Braze still holds the agreed value: the writer
			// reads the user first, and a Braze change wins.
			set(&up.Check, f.Brevo, cur)
		}
		set(&next.H, f.Brevo, h)
		del(&next.F, f.Brevo)
		if f.Direction == Both {
			set(&next.V, f.Brevo, v)
			set(&next.W, f.Brevo, 0)
			set(&next.C, f.Brevo, o.At)
		}
	}
	if len(up.Hashes) > 0 {
		res.update = up
	}
	return res, next
}

// forward reconciles the two-way fields (direction both) of a Braze user
// about to be written to Brevo, exported at te: it may change c (a field
// whose Braze value is stale or loses keeps Brevo's value) and ask for a
// write to Braze (a Brevo change asserted again, brevo_wins).
func (p *Policy) forward(c *mapping.Contact, te int64, rec *Record, exists bool) (next *Record, changed bool, up *proto.BrazeUserUpdate) {
	next = rec.clone()
	for _, f := range p.fields {
		if f.Direction != Both {
			continue
		}
		var value any
		if f.Brevo == mapping.TargetEmail {
			if c.Email != "" {
				value = c.Email
			}
		} else {
			value = c.Attributes[f.Brevo]
		}
		b, ok := f.hash(value)
		if !ok {
			continue
		}
		h, known := next.H[f.Brevo]
		if !exists || !known {
			set(&next.H, f.Brevo, b) // the baseline: what Braze holds
			changed = true
			continue
		}
		write := func(v any, at int64) {
			bv, err := f.toBraze(v)
			if err != nil {
				return
			}
			if up == nil {
				up = newUpdate(c.Key, at)
			}
			up.Attributes[f.Braze] = bv
			up.Hashes[f.Brevo], _ = f.hash(v)
			if at > up.SourceVersion {
				up.SourceVersion = at
			}
		}
		vv, brevoSet := next.V[f.Brevo]
		w := next.W[f.Brevo]
		switch {
		case b == h:
			if brevoSet && w > 0 && te > w {
				next.settle(f.Brevo) // Braze is seen holding Brevo's change
				changed = true
			}
		case brevoSet && (w == 0 || te < w):
			substitute(c, f, vv) // requested before the write to Braze landed: stale
		case brevoSet && f.Conflict == BrevoWins:
			// Braze changed the field after Brevo's change reached it, before
			// an export saw them agree: Brevo's value is asserted again.
			substitute(c, f, vv)
			write(vv, next.C[f.Brevo])
			set(&next.W, f.Brevo, 0)
			changed = true
		default: // a Braze change
			set(&next.H, f.Brevo, b)
			set(&next.F, f.Brevo, te)
			next.settle(f.Brevo)
			changed = true
		}
	}
	return next, changed, up
}

// substitute makes c carry Brevo's value v for f.
func substitute(c *mapping.Contact, f Field, v any) {
	cv, _ := canon(v, f.Type, f.Brevo == mapping.TargetEmail)
	if f.Brevo == mapping.TargetEmail {
		c.Email = cv
		return
	}
	if cv == "" {
		delete(c.Attributes, f.Brevo)
		return
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	c.Attributes[f.Brevo] = typed(cv, f.Type)
}

// decideEmail decides what an emailBlacklisted observed at at changes:
// a turn to true sends Braze an unsubscribe once (send), whoever reports
// it (webhook, poll, again); a turn to false is recorded, not sent
// (resubscribing someone is not the connector's call).
func decideEmail(cur EmailState, blacklisted bool, at int64) (next EmailState, write, send bool) {
	if !blacklisted {
		if cur.State == "unsubscribed" && at > cur.At {
			return EmailState{State: "subscribed", At: at, Sent: true}, true, false
		}
		return cur, false, false
	}
	if cur.State == "unsubscribed" {
		// Claimed already: sent, or on its way. The same observation
		// handled again (a redelivery) sends again: the writer skips what
		// landed.
		return cur, false, !cur.Sent && cur.At == at
	}
	return EmailState{State: "unsubscribed", At: at}, true, true
}
