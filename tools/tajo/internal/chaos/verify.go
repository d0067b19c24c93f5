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
	if len(got.Contacts) != len(ref.Contacts) {
		bad("Brevo holds %d contacts after the chaos run, %d after the reference run", len(got.Contacts), len(ref.Contacts))
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
	if !maps.Equal(got.DLQ, ref.DLQ) {
		bad("DLQ by stage.reason = %s, the reference has %s", countsString(got.DLQ), countsString(ref.DLQ))
	}
	return problems
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
