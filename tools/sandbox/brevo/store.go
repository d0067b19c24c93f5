package brevo

import (
	"slices"
	"time"
)

// contact is the stored form, kept small: a million of them must fit in a few
// hundred MB. Its id is its index in store.contacts plus one.
type contact struct {
	email, extID, sms string
	attrs             string // see attrstore.go
	lists             []int32
	created, modified int64 // unix milliseconds
	flags             uint8
}

const (
	flagEmailBlacklisted uint8 = 1 << iota
	flagSMSBlacklisted
	flagEmailBlacklistSent // emailBlacklisted was sent at least once, whatever its value
	flagSMSBlacklistSent
	flagDeleted // merged away by a forceMerge: its id names nothing any more
)

// store holds the contacts and the unique-identifier indexes.
type store struct {
	contacts []contact
	byEmail  map[string]int32
	byExtID  map[string]int32
	bySMS    map[string]int32
	deleted  int // contacts with flagDeleted

	// onChange and onRemove, when set, are told of every change that
	// changed something and of every removal (the webhooks).
	onChange func(idx int, before *contact, created bool)
	onRemove func(idx int, before *contact)
}

// live reports whether idx names a contact that exists (in range, not deleted).
func (st *store) live(idx int) bool {
	return idx >= 0 && idx < len(st.contacts) && st.contacts[idx].flags&flagDeleted == 0
}

// count is the number of contacts that exist.
func (st *store) count() int { return len(st.contacts) - st.deleted }

// remove deletes the contact at idx: its identifiers are freed for others and
// it leaves every list. Its slot stays so ids keep naming their index.
func (st *store) remove(idx int) {
	ct := &st.contacts[idx]
	if st.onRemove != nil {
		before := *ct
		defer st.onRemove(idx, &before)
	}
	for _, x := range []struct {
		key   string
		index map[string]int32
	}{{ct.email, st.byEmail}, {ct.extID, st.byExtID}, {ct.sms, st.bySMS}} {
		if x.key != "" && x.index[x.key] == int32(idx) {
			delete(x.index, x.key)
		}
	}
	*ct = contact{created: ct.created, modified: ct.modified, flags: flagDeleted}
	st.deleted++
}

func newStore() *store {
	return &store{byEmail: map[string]int32{}, byExtID: map[string]int32{}, bySMS: map[string]int32{}}
}

// change is one create or update, from any endpoint, already validated.
type change struct {
	contactID         int64  // import CONTACT_ID, 0 when absent
	email, extID, sms string // normalised; "" when absent
	attrs             []attrKV
	lists, unlink     []int32
	emailBlacklisted  *bool
	smsBlacklisted    *bool
}

func (c *change) hasIdentifier() bool {
	return c.contactID != 0 || c.email != "" || c.extID != "" || c.sms != ""
}

// resolution is where a change lands.
type resolution struct {
	idx       int      // target index, -1 for a new contact
	matched   []string // identifiers given that name the target
	conflicts []string // identifiers given that belong to another contact
	missing   bool     // a contact id was given and does not exist
}

// resolve finds the contact a change targets, trying identifiers in Brevo's merge
// priority: contact id, ext_id, email, SMS. The first that matches wins; any other
// identifier owned by a different contact is a conflict. SMS only identifies a
// contact given by SMS alone: a new email with a taken SMS is Brevo's everyday
// "SMS is already associated with another Contact", not an update of the owner.
func (st *store) resolve(c *change) resolution {
	res := resolution{idx: -1}
	if c.contactID != 0 {
		if !st.live(int(c.contactID - 1)) {
			return resolution{idx: -1, missing: true}
		}
		res.idx = int(c.contactID - 1)
	}
	lookups := []struct {
		name, key string
		index     map[string]int32
	}{{"ext_id", c.extID, st.byExtID}, {"email", c.email, st.byEmail}, {"SMS", c.sms, st.bySMS}}
	for _, l := range lookups {
		if l.key == "" {
			continue
		}
		owner, ok := l.index[l.key]
		switch {
		case !ok:
		case int(owner) == res.idx,
			res.idx < 0 && (l.name != "SMS" || c.contactID == 0 && c.extID == "" && c.email == ""):
			res.idx = int(owner)
			res.matched = append(res.matched, l.name)
		default:
			res.conflicts = append(res.conflicts, l.name)
		}
	}
	return res
}

// apply creates (idx < 0) or updates a contact and returns its index. An update
// that changes nothing keeps modifiedAt, so modifiedSince only returns real changes.
func (st *store) apply(idx int, c *change, now time.Time) int {
	ms := now.UnixMilli()
	created := idx < 0
	if created {
		st.contacts = append(st.contacts, contact{created: ms})
		idx = len(st.contacts) - 1
	}
	ct := &st.contacts[idx]
	var before contact
	if st.onChange != nil {
		before = *ct
		before.lists = slices.Clone(ct.lists)
	}
	changed := ct.modified == 0
	changed = setIdentifier(&ct.email, c.email, st.byEmail, idx) || changed
	changed = setIdentifier(&ct.extID, c.extID, st.byExtID, idx) || changed
	changed = setIdentifier(&ct.sms, c.sms, st.bySMS, idx) || changed
	if enc, ok := mergeAttrs(ct.attrs, c.attrs); ok {
		ct.attrs, changed = enc, true
	}
	for _, l := range c.lists {
		if !slices.Contains(ct.lists, l) {
			ct.lists, changed = append(ct.lists, l), true
		}
	}
	for _, l := range c.unlink {
		if i := slices.Index(ct.lists, l); i >= 0 {
			ct.lists, changed = slices.Delete(ct.lists, i, i+1), true
		}
	}
	changed = setFlag(&ct.flags, flagEmailBlacklisted, flagEmailBlacklistSent, c.emailBlacklisted) || changed
	changed = setFlag(&ct.flags, flagSMSBlacklisted, flagSMSBlacklistSent, c.smsBlacklisted) || changed
	if changed {
		ct.modified = ms
		if st.onChange != nil {
			st.onChange(idx, &before, created)
		}
	}
	return idx
}

func setIdentifier(field *string, value string, index map[string]int32, idx int) bool {
	if value == "" || *field == value {
		return false
	}
	if *field != "" {
		delete(index, *field)
	}
	*field = value
	index[value] = int32(idx)
	return true
}

func setFlag(flags *uint8, flag, sent uint8, v *bool) bool {
	if v == nil {
		return false
	}
	before := *flags
	*flags |= sent
	if *v {
		*flags |= flag
	} else {
		*flags &^= flag
	}
	return before&flag != *flags&flag
}

func (st *store) lookup(index map[string]int32, key string) (int, bool) {
	i, ok := index[key]
	return int(i), ok
}
