package chaos

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"

	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// verify compares the chaos run's outcome with the reference's and returns
// every difference the faults and kills may not explain, one line each.
func verify(ref, got *Snapshot, gr groups) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	refByKey := indexContacts(ref.Contacts, nil)
	gotByKey := indexContacts(got.Contacts, func(format string, a ...any) { bad("duplicate: "+format, a...) })
	if d := len(got.Contacts) - len(ref.Contacts); abs(d) > gr.orderDependent {
		bad("Brevo holds %d contacts after the chaos run, %d after the reference run (%d users without an ext_id share an email, so up to that many may differ)",
			len(got.Contacts), len(ref.Contacts), gr.orderDependent)
	}
	for key, r := range refByKey {
		g, ok := gotByKey[key]
		switch {
		case !ok && (gr.email[r.Email] != nil || gr.bySMS[key]):
			// Another user of the email group owns it: checked by group below.
		case !ok:
			bad("contact %s: in the reference, missing after the chaos run", key)
		default:
			problems = append(problems, compareContact(key, r, g, ref.ListNames, got.ListNames, gr)...)
		}
	}
	for key, g := range gotByKey {
		if _, ok := refByKey[key]; !ok && gr.email[g.Email] == nil && !gr.bySMS[key] {
			bad("contact %s: not in the reference, created by the chaos run", key)
		}
	}
	problems = append(problems, checkGroups("email", gr.email, ref.Contacts, got.Contacts,
		func(c brevosim.Contact) string { return c.Email })...)
	problems = append(problems, checkGroups("SMS", gr.sms, ref.Contacts, got.Contacts,
		func(c brevosim.Contact) string { return c.SMS })...)

	if got.ConcurrentImports != 0 {
		bad("Brevo received %d imports while another was running (one at a time is the rule)", got.ConcurrentImports)
	}
	problems = append(problems, compareDLQ(ref, got, gr.orderDependent)...)
	return problems
}

// The loader's reasons for an identifier another user holds.
const (
	dlqDuplicateEmail = "loader.duplicate_email"
	dlqEmailTaken     = "loader.email_taken"
	dlqSMSTaken       = "loader.sms_taken"
)

// compareDLQ compares the dead letters by stage and reason. Which user of a
// shared email keeps it depends on processing order, so where users
// without an ext_id share one (orderDependent of them), the identifier
// reasons may trade places, within what each such user can change:
//   - every mapped user is a contact or dead-lettered duplicate_email, so
//     contacts plus duplicate_email letters are the same in both runs;
//   - each shared email has one holder and every other user of its group
//     got email_taken or duplicate_email, so their sum is the same too;
//   - sms_taken may differ by at most one per order-dependent user.
//
// Every other reason, and every reason when no such user exists, must
// count the same.
func compareDLQ(ref, got *Snapshot, orderDependent int) []string {
	mismatch := fmt.Sprintf("DLQ by stage.reason = %s, the reference has %s", countsString(got.DLQ), countsString(ref.DLQ))
	if orderDependent == 0 {
		if !maps.Equal(got.DLQ, ref.DLQ) {
			return []string{mismatch}
		}
		return nil
	}
	identifier := map[string]bool{dlqDuplicateEmail: true, dlqEmailTaken: true, dlqSMSTaken: true}
	without := func(m map[string]int) map[string]int {
		out := map[string]int{}
		for k, v := range m {
			if !identifier[k] && v != 0 {
				out[k] = v
			}
		}
		return out
	}
	var out []string
	if !maps.Equal(without(got.DLQ), without(ref.DLQ)) {
		out = append(out, mismatch)
	}
	if g, r := len(got.Contacts)+got.DLQ[dlqDuplicateEmail], len(ref.Contacts)+ref.DLQ[dlqDuplicateEmail]; g != r {
		out = append(out, fmt.Sprintf("contacts plus %s letters: %d after the chaos run, %d in the reference (each user is one or the other)", dlqDuplicateEmail, g, r))
	}
	if g, r := got.DLQ[dlqEmailTaken]+got.DLQ[dlqDuplicateEmail], ref.DLQ[dlqEmailTaken]+ref.DLQ[dlqDuplicateEmail]; g != r {
		out = append(out, fmt.Sprintf("%s plus %s letters: %d after the chaos run, %d in the reference (every user of a shared email but its holder has one)", dlqEmailTaken, dlqDuplicateEmail, g, r))
	}
	if d := got.DLQ[dlqSMSTaken] - ref.DLQ[dlqSMSTaken]; abs(d) > orderDependent {
		out = append(out, fmt.Sprintf("%s letters: %d after the chaos run, %d in the reference, more apart than the %d users whose outcome depends on order",
			dlqSMSTaken, got.DLQ[dlqSMSTaken], ref.DLQ[dlqSMSTaken], orderDependent))
	}
	if d := got.DLQ[dlqDuplicateEmail] - ref.DLQ[dlqDuplicateEmail]; abs(d) > orderDependent {
		out = append(out, fmt.Sprintf("%s letters: %d after the chaos run, %d in the reference, more apart than the %d users whose outcome depends on order",
			dlqDuplicateEmail, got.DLQ[dlqDuplicateEmail], ref.DLQ[dlqDuplicateEmail], orderDependent))
	}
	if len(out) > 0 && out[0] != mismatch {
		out = append(out, mismatch)
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// indexContacts keys contacts by keyOf and reports, through dup, any key,
// email or SMS two contacts hold.
func indexContacts(cs []brevosim.Contact, dup func(format string, a ...any)) map[string]brevosim.Contact {
	out := make(map[string]brevosim.Contact, len(cs))
	email, sms := map[string]int64{}, map[string]int64{}
	for _, c := range cs {
		key := keyOf(c.ExtID, c.Email, c.SMS)
		if prev, ok := out[key]; ok && dup != nil {
			dup("contacts %d and %d are both %s", prev.ID, c.ID, key)
		}
		out[key] = c
		for _, u := range []struct {
			seen map[string]int64
			id   string
		}{{email, c.Email}, {sms, c.SMS}} {
			if u.id == "" {
				continue
			}
			if prev, ok := u.seen[u.id]; ok && dup != nil {
				dup("contacts %d and %d both hold %s", prev, c.ID, u.id)
			}
			u.seen[u.id] = c.ID
		}
	}
	return out
}

// compareContact compares one contact both runs hold. An SMS may differ
// only where the phone is shared: another user of the group may own it.
func compareContact(key string, ref, got brevosim.Contact, refLists, gotLists map[int64]string, gr groups) []string {
	var out []string
	if got.Email != ref.Email && gr.email[got.Email] == nil && gr.email[ref.Email] == nil {
		// (a shared email may be held by another user of its group)
		out = append(out, fmt.Sprintf("contact %s: email %q, the reference has %q", key, got.Email, ref.Email))
	}
	if got.SMS != ref.SMS && gr.sms[got.SMS] == nil && gr.sms[ref.SMS] == nil {
		out = append(out, fmt.Sprintf("contact %s: SMS %q, the reference has %q", key, got.SMS, ref.SMS))
	}
	for _, name := range slices.Sorted(maps.Keys(union(ref.Attributes, got.Attributes))) {
		if name == smsAttr {
			continue // the SMS field, compared above
		}
		r, rok := ref.Attributes[name]
		g, gok := got.Attributes[name]
		if rok != gok || !reflect.DeepEqual(r, g) {
			out = append(out, fmt.Sprintf("contact %s: %s = %s, the reference has %s", key, name, show(g, gok), show(r, rok)))
		}
	}
	if rl, gl := listNames(ref.ListIDs, refLists), listNames(got.ListIDs, gotLists); !slices.Equal(rl, gl) {
		out = append(out, fmt.Sprintf("contact %s: in lists %q, the reference in %q", key, gl, rl))
	}
	return out
}

// checkGroups checks each shared identifier: as many contacts hold it as in
// the reference (Brevo allows one), and the holder is a user of the group.
func checkGroups(what string, shared map[string]map[string]bool, ref, got []brevosim.Contact, id func(brevosim.Contact) string) []string {
	holders := func(cs []brevosim.Contact) map[string][]string {
		out := map[string][]string{}
		for _, c := range cs {
			if v := id(c); shared[v] != nil {
				out[v] = append(out[v], keyOf(c.ExtID, c.Email, c.SMS))
			}
		}
		return out
	}
	rh, gh := holders(ref), holders(got)
	var out []string
	for _, v := range slices.Sorted(maps.Keys(shared)) {
		if len(gh[v]) != len(rh[v]) {
			out = append(out, fmt.Sprintf("shared %s %s: held by %d contacts %v, by %d in the reference", what, v, len(gh[v]), gh[v], len(rh[v])))
		}
		for _, k := range gh[v] {
			if !shared[v][k] {
				out = append(out, fmt.Sprintf("shared %s %s: held by %s, who is not one of the users sharing it", what, v, k))
			}
		}
	}
	return out
}

func union(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]any{}
	}
	maps.Copy(out, b)
	return out
}

func show(v any, ok bool) string {
	if !ok {
		return "(absent)"
	}
	return fmt.Sprintf("%v (%T)", v, v)
}

func listNames(ids []int64, names map[int64]string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		n, ok := names[id]
		if !ok {
			n = fmt.Sprintf("unknown list %d", id)
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func countsString(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}
