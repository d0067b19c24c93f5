package chaos

import (
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// smsAttr is the Brevo attribute a Braze phone maps to; Brevo keeps it
// unique across contacts, as it does the email.
const smsAttr = "SMS"

// groups are the users who share an identifier Brevo keeps unique: by
// shared email or SMS, the keys (contactKey) of the users holding it.
type groups struct {
	email map[string]map[string]bool
	sms   map[string]map[string]bool
	// bySMS are the keys ("sms:+...") under which users without an ext_id
	// of an email group appear when another user of the group holds the
	// email: which one does depends on processing order.
	bySMS map[string]bool
	// orderDependent counts the users without an ext_id whose email another
	// user shares: whether each becomes a contact (by email or by SMS) or
	// is dead-lettered duplicate_email depends on which user claims the
	// email, and its SMS, first.
	orderDependent int
}

// sharedGroups maps every user of g as the transformer would and keeps the
// emails and phones more than one mappable user holds. Using the mapper
// here only finds who collides; the values compared come from the
// reference run.
func sharedGroups(m *mapping.Mapper, g *gen.Generator) groups {
	email := map[string]map[string]bool{}
	sms := map[string]map[string]bool{}
	add := func(into map[string]map[string]bool, id, key string) {
		if id == "" {
			return
		}
		if into[id] == nil {
			into[id] = map[string]bool{}
		}
		into[id][key] = true
	}
	altOf := map[string][]string{} // email -> "sms:" keys of its users without an ext_id
	noExtID := map[string]int{}    // email -> its users without an ext_id
	for i := range g.N() {
		c, err := m.Map(g.Line(i, 0))
		if err != nil {
			continue // dead-lettered in both runs alike
		}
		s, _ := c.Attributes[smsAttr].(string)
		key := keyOf(c.ExtID, c.Email, s)
		add(email, c.Email, key)
		add(sms, s, key)
		if c.ExtID == "" && c.Email != "" {
			noExtID[c.Email]++
		}
		if c.ExtID == "" && c.Email != "" && s != "" {
			altOf[c.Email] = append(altOf[c.Email], keyOf("", "", s))
		}
	}
	out := groups{email: map[string]map[string]bool{}, sms: map[string]map[string]bool{}, bySMS: map[string]bool{}}
	for id, keys := range email {
		if len(keys) > 1 {
			out.email[id] = keys
			out.orderDependent += noExtID[id]
			for _, k := range altOf[id] {
				out.bySMS[k] = true
			}
		}
	}
	for id, keys := range sms {
		if len(keys) > 1 {
			out.sms[id] = keys
		}
	}
	return out
}

// keyOf identifies a contact as Brevo does: its external id, else its
// email, else its SMS (a user without an ext_id whose email another user
// holds is written by its SMS alone).
func keyOf(extID, email, sms string) string {
	switch {
	case extID != "":
		return extID
	case email != "":
		return "email:" + email
	}
	return "sms:" + sms
}
