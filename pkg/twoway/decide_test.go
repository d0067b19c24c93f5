package twoway

import (
	"strings"
	"testing"

	"github.com/tajo-sync/tajo/pkg/mapping"
)

func policy(t *testing.T, fields map[string]Rule) *Policy {
	t.Helper()
	p, err := NewPolicy(Options{Fields: fields, APIKeyName: "tajo"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestToBrazeFormats(t *testing.T) {
	p, err := NewPolicy(Options{
		FieldMapping: map[string]string{"first_name": "FIRSTNAME", "dob": "BIRTHDAY", "loyalty_points": "LOYALTY",
			"vip": "VIP", "signup": "SIGNUP", "email_subscribe": "EMAIL_STATUS", "phone": "SMS", "email": "email"},
		FieldTypes: map[string]string{"BIRTHDAY": "date", "LOYALTY": "float", "VIP": "boolean", "SIGNUP": "date"},
		Fields: map[string]Rule{"first_name": {Direction: Both}, "dob": {Direction: Both}, "loyalty_points": {Direction: Both},
			"vip": {Direction: Both}, "signup": {Direction: BrevoToBraze}, "email_subscribe": {Direction: Both},
			"phone": {Direction: Both}, "email": {Direction: Both}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		brevo string
		in    any
		want  any
		err   string
	}{
		{"FIRSTNAME", "  Ada ", "Ada", ""},
		{"FIRSTNAME", "", nil, ""},
		{"FIRSTNAME", nil, nil, ""},
		{"BIRTHDAY", "1990-04-01", "1990-04-01", ""},
		{"BIRTHDAY", "1990-04-01T00:00:00Z", "1990-04-01", ""},
		{"BIRTHDAY", "01/04/1990", nil, "not a Brevo date"},
		{"SIGNUP", "2024-02-03", "2024-02-03T00:00:00.000Z", ""},
		{"LOYALTY", 12.0, int64(12), ""},
		{"LOYALTY", 12.5, 12.5, ""},
		{"LOYALTY", "7", int64(7), ""},
		{"VIP", true, true, ""},
		{"VIP", "false", false, ""},
		{"VIP", 1.0, nil, "not a Brevo boolean"},
		{"EMAIL_STATUS", "unsubscribed", "unsubscribed", ""},
		{"EMAIL_STATUS", "maybe", nil, "not a Braze subscription state"},
		{"SMS", "+14155550134", "+14155550134", ""},
		{"email", "Ada@Example.COM", "ada@example.com", ""},
		{"email", "nobody", nil, "not an email address"},
	} {
		f := p.byBrevo[tc.brevo]
		got, err := f.toBraze(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s %v: error %v, want %q", tc.brevo, tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%s %v: %#v, %v; want %#v", tc.brevo, tc.in, got, err, tc.want)
		}
	}
}

// The two sides' renderings of one value hash alike: what the forward
// mapping produces from a Braze user and what Brevo returns.
func TestValuesCompareAcrossSides(t *testing.T) {
	f := Field{Brevo: "LOYALTY", Type: mapping.TypeFloat}
	a, _ := f.hash(float64(120))
	b, _ := f.hash("120.0")
	c, _ := f.hash(121.0)
	if a != b || a == c || a == 0 {
		t.Errorf("float hashes %x %x %x", a, b, c)
	}
	e := Field{Brevo: mapping.TargetEmail, Type: mapping.TypeText}
	x, _ := e.hash("Ada@Example.com")
	y, _ := e.hash("ada@example.com ")
	if x != y {
		t.Error("emails differing in case hash apart")
	}
	if h, _ := (Field{Type: mapping.TypeText}).hash(""); h != 0 {
		t.Error("an empty value has a hash")
	}
}

func TestReverseDecisions(t *testing.T) {
	p := policy(t, map[string]Rule{"first_name": {Direction: Both}, "last_name": {Direction: Both, Conflict: BrazeWins},
		"preferred_language": {Direction: BrevoToBraze}})
	hFirst, _ := p.byBrevo["FIRSTNAME"].hash("Ann")
	hLast, _ := p.byBrevo["LASTNAME"].hash("Lee")
	base := &Record{H: map[string]uint64{"FIRSTNAME": hFirst, "LASTNAME": hLast}, RV: 1000}
	obs := func(at int64, vals map[string]any) Observation {
		return Observation{Key: "cust_1", ContactID: 7, At: at, Values: vals}
	}

	// What Braze holds already: nothing to write (an echo of a forward write).
	res, next := p.reverse(obs(2000, map[string]any{"FIRSTNAME": "Ann", "LASTNAME": "Lee", "LANGUAGE": nil}), base)
	if res.update != nil || next.RV != 2000 {
		t.Errorf("an unchanged contact: update %+v, RV %d", res.update, next.RV)
	}
	// Not newer than what was handled: stale.
	if res, _ := p.reverse(obs(1000, map[string]any{"FIRSTNAME": "Zed"}), base); !res.stale || res.update != nil {
		t.Errorf("an old observation: %+v", res)
	}
	// A change: only the changed field, with the check braze_wins asks for.
	res, next = p.reverse(obs(3000, map[string]any{"FIRSTNAME": "Ann", "LASTNAME": "Lim", "LANGUAGE": "eo"}), base)
	u := res.update
	if u == nil || len(u.Attributes) != 2 || u.Attributes["last_name"] != "Lim" || u.Attributes["preferred_language"] != "eo" ||
		u.ExternalID != "cust_1" || u.SourceVersion != 3000 {
		t.Fatalf("update %+v", u)
	}
	if u.Check["LASTNAME"] != hLast || len(u.Check) != 1 {
		t.Errorf("check %v: braze_wins must expect Braze to hold the agreed value", u.Check)
	}
	if next.V["LASTNAME"] != "Lim" || next.C["LASTNAME"] != 3000 {
		t.Errorf("the record does not keep Brevo's change in flight: %+v", next)
	}
	// Older than a Braze change being written (F): not taken.
	withF := base.clone()
	withF.F = map[string]int64{"FIRSTNAME": 5000}
	if res, _ := p.reverse(obs(4000, map[string]any{"FIRSTNAME": "Old"}), withF); res.update != nil {
		t.Errorf("a Brevo read older than a Braze change in flight was written: %+v", res.update)
	}
	// A field Brevo has nothing for, and nothing known of Braze: nothing.
	if res, _ := p.reverse(obs(3000, map[string]any{"LANGUAGE": nil}), &Record{}); res.update != nil {
		t.Errorf("an absent value with no baseline erased Braze's: %+v", res.update)
	}
	// Keys: without an ext_id, the braze_id or the brevo_id alias.
	if u := newUpdate("braze:abc", 1); u.BrazeID != "abc" || u.ExternalID != "" {
		t.Errorf("braze key: %+v", u)
	}
	if u := newUpdate(BrevoKey(42), 1); u.AliasName != "42" || u.AliasLabel != AliasLabel {
		t.Errorf("brevo key: %+v", u)
	}
}

func TestForwardDecisions(t *testing.T) {
	p := policy(t, map[string]Rule{"first_name": {Direction: Both}, "last_name": {Direction: Both, Conflict: BrevoWins}})
	h := func(v string) uint64 { x, _ := p.byBrevo["FIRSTNAME"].hash(v); return x }
	contact := func(first, last string) *mapping.Contact {
		return &mapping.Contact{Key: "cust_1", ExtID: "cust_1", Attributes: map[string]any{"FIRSTNAME": first, "LASTNAME": last}}
	}
	// No record: the baseline is what Braze holds.
	next, changed, up := p.forward(contact("Ann", "Lee"), 100, nil, false)
	if !changed || up != nil || next.H["FIRSTNAME"] != h("Ann") {
		t.Fatalf("baseline: %+v %v %+v", next, changed, up)
	}
	// Brevo's change (Zoe) written to Braze at 500: an export requested at
	// 400 still shows Ann: stale, Brevo's value is kept.
	rec := &Record{H: map[string]uint64{"FIRSTNAME": h("Zoe"), "LASTNAME": h("Lee")},
		V: map[string]any{"FIRSTNAME": "Zoe"}, W: map[string]int64{"FIRSTNAME": 500}, C: map[string]int64{"FIRSTNAME": 300}}
	c := contact("Ann", "Lee")
	_, _, up = p.forward(c, 400, rec, true)
	if c.Attributes["FIRSTNAME"] != "Zoe" || up != nil {
		t.Errorf("stale export: FIRSTNAME %v, update %+v", c.Attributes["FIRSTNAME"], up)
	}
	// While the write is in flight (W 0), likewise.
	inFlight := rec.clone()
	inFlight.W["FIRSTNAME"] = 0
	c = contact("Ann", "Lee")
	p.forward(c, 900, inFlight, true)
	if c.Attributes["FIRSTNAME"] != "Zoe" {
		t.Errorf("write in flight: FIRSTNAME %v", c.Attributes["FIRSTNAME"])
	}
	// An export after it shows Zoe: settled.
	next, changed, _ = p.forward(contact("Zoe", "Lee"), 600, rec, true)
	if !changed || next.V != nil || next.W != nil {
		t.Errorf("settled: %+v", next)
	}
	// A later export shows a Braze change: newest_wins passes it on.
	c = contact("Max", "Lee")
	next, _, up = p.forward(c, 700, rec, true)
	if c.Attributes["FIRSTNAME"] != "Max" || up != nil || next.H["FIRSTNAME"] != h("Max") || next.F["FIRSTNAME"] != 700 {
		t.Errorf("newest_wins: %v %+v %+v", c.Attributes["FIRSTNAME"], up, next)
	}
	// brevo_wins: the same situation asserts Brevo's value again.
	hl := func(v string) uint64 { x, _ := p.byBrevo["LASTNAME"].hash(v); return x }
	recL := &Record{H: map[string]uint64{"FIRSTNAME": h("Ann"), "LASTNAME": hl("Kay")},
		V: map[string]any{"LASTNAME": "Kay"}, W: map[string]int64{"LASTNAME": 500}, C: map[string]int64{"LASTNAME": 300}}
	c = contact("Ann", "Max")
	next, _, up = p.forward(c, 700, recL, true)
	if c.Attributes["LASTNAME"] != "Kay" || up == nil || up.Attributes["last_name"] != "Kay" || next.W["LASTNAME"] != 0 {
		t.Errorf("brevo_wins: %v %+v %+v", c.Attributes["LASTNAME"], up, next)
	}
}

func TestDecideEmail(t *testing.T) {
	st, write, send := decideEmail(EmailState{}, true, 10)
	if !write || !send || st.State != "unsubscribed" {
		t.Fatalf("first unsubscribe: %+v %v %v", st, write, send)
	}
	// The poll reports it too (another time): claimed already.
	if _, w, s := decideEmail(st, true, 15); w || s {
		t.Error("a second report sent again")
	}
	// The same observation again before it landed (a redelivery): sent again.
	if _, _, s := decideEmail(st, true, 10); !s {
		t.Error("a redelivery of the claiming observation is not sent")
	}
	// Landed: never again.
	st.Sent = true
	if _, _, s := decideEmail(st, true, 10); s {
		t.Error("sent after it landed")
	}
	// A resubscribe is recorded, not sent; a later unsubscribe is sent.
	st, write, send = decideEmail(st, false, 20)
	if !write || send || st.State != "subscribed" {
		t.Errorf("resubscribe: %+v %v %v", st, write, send)
	}
	if _, _, s := decideEmail(st, true, 30); !s {
		t.Error("an unsubscribe after a resubscribe is not sent")
	}
}

func TestFromWebhook(t *testing.T) {
	p := policy(t, map[string]Rule{"first_name": {Direction: Both}, "email": {Direction: Both}})
	ev, err := p.FromWebhook([]byte(`{"event":"contact_updated","id":7,"email":"A@x.io","content":[{"FIRSTNAME":"Ann"},{"EMAIL":"B@x.io","EXT_ID":"c1"}],"ts":1700000000,"api_key_name":"tajo"}`), 0)
	if err != nil || !ev.Ours || ev.Obs.Values["FIRSTNAME"] != "Ann" || ev.Obs.Values["email"] != "b@x.io" ||
		ev.Obs.ExtID != "c1" || ev.Obs.At != 1700000000000 || ev.Obs.ContactID != 7 {
		t.Errorf("contact_updated: %+v %v", ev, err)
	}
	ev, _ = p.FromWebhook([]byte(`{"event":"unsubscribed","email":"a@x.io","date":"2026-01-02 03:04:05"}`), 0)
	if !ev.Relevant || ev.Obs.Blacklisted == nil || !*ev.Obs.Blacklisted || ev.Obs.At == 0 || ev.Ours {
		t.Errorf("unsubscribed: %+v", ev)
	}
	ev, _ = p.FromWebhook([]byte(`{"event":"list_addition","email":"a@x.io","list_id":[3],"api_key_name":"someone"}`), 99)
	if ev.Relevant || ev.Ours || ev.Obs.At != 99 {
		t.Errorf("list_addition: %+v", ev)
	}
	if _, err := p.FromWebhook([]byte(`{"event":"contact_updated","content":"nope"}`), 0); err == nil {
		t.Error("content that is not an object was read")
	}
}

func TestReverseDeletes(t *testing.T) {
	keep := policy(t, map[string]Rule{"first_name": {Direction: Both}})
	res, _ := keep.reverse(Observation{Key: "cust_1", Deleted: true, At: 5}, &Record{})
	if !res.deleted || res.delete != nil {
		t.Errorf("propagate_deletes off: %+v", res)
	}
	p, err := NewPolicy(Options{Fields: map[string]Rule{"first_name": {Direction: Both}}, PropagateDeletes: true})
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"cust_1": "ext:cust_1", "braze:abc": "bid:abc", BrevoKey(9): "alias:9"} {
		res, _ := p.reverse(Observation{Key: key, Deleted: true, At: 5}, &Record{})
		d := res.delete
		if d == nil {
			t.Fatalf("%s: no deletion", key)
		}
		got := map[bool]string{d.ExternalID != "": "ext:" + d.ExternalID, d.BrazeID != "": "bid:" + d.BrazeID,
			d.AliasName != "" && d.AliasLabel == AliasLabel: "alias:" + d.AliasName}[true]
		if got != want {
			t.Errorf("%s: deletion %+v", key, d)
		}
	}
}

// substitute puts Brevo's value on the contact in the forward mapping's
// type (typed, as brevoFingerprint does), and an empty one removes it.
func TestSubstituteTypes(t *testing.T) {
	c := &mapping.Contact{Attributes: map[string]any{"GONE": "x"}}
	substitute(c, Field{Brevo: "LOYALTY", Type: mapping.TypeFloat}, "120.50")
	substitute(c, Field{Brevo: "VIP", Type: mapping.TypeBoolean}, true)
	substitute(c, Field{Brevo: "FIRSTNAME", Type: mapping.TypeText}, "Ann")
	substitute(c, Field{Brevo: "GONE", Type: mapping.TypeText}, "")
	substitute(c, Field{Brevo: mapping.TargetEmail, Type: mapping.TypeText}, "Ada@Example.com")
	want := map[string]any{"LOYALTY": 120.5, "VIP": true, "FIRSTNAME": "Ann"}
	if len(c.Attributes) != len(want) {
		t.Fatalf("attributes %#v, want %#v", c.Attributes, want)
	}
	for k, v := range want {
		if c.Attributes[k] != v {
			t.Errorf("%s = %#v, want %#v", k, c.Attributes[k], v)
		}
	}
	if c.Email != "ada@example.com" {
		t.Errorf("email %q", c.Email)
	}
}
