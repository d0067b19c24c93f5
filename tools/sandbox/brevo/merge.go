package brevo

import (
	"slices"
	"time"
)

// forceMerge applies a POST /contacts with forceMerge:true; call with the lock
// held. Brevo's reference: when the contact shares an identifier (email, SMS,
// ext_id) with existing contacts, "the contact with the most recent
// last_modified timestamp is retained; the other is deleted". The sandbox
// reads it so: every existing contact named by one of the request's
// identifiers is a candidate, the most recently modified survives (the
// lowest id on a tie), the others are deleted (their identifiers freed, their
// ids naming nothing), and the request's values are applied to the survivor.
// With no existing contact named it is an ordinary create.
func (s *Server) forceMerge(c *change, now time.Time) (id int64, created bool) {
	var owners []int
	for _, x := range []struct {
		key   string
		index map[string]int32
	}{{c.extID, s.st.byExtID}, {c.email, s.st.byEmail}, {c.sms, s.st.bySMS}} {
		if i, ok := s.st.lookup(x.index, x.key); x.key != "" && ok && !slices.Contains(owners, i) {
			owners = append(owners, i)
		}
	}
	if len(owners) == 0 {
		return int64(s.st.apply(-1, c, now)) + 1, true
	}
	survivor := owners[0]
	for _, i := range owners[1:] {
		a, b := &s.st.contacts[i], &s.st.contacts[survivor]
		if a.modified > b.modified || a.modified == b.modified && i < survivor {
			survivor = i
		}
	}
	for _, i := range owners {
		if i != survivor {
			s.st.remove(i)
			s.stats.merged++
		}
	}
	return int64(s.st.apply(survivor, c, now)) + 1, false
}
