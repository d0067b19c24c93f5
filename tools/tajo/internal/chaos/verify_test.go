package chaos

import (
	"strings"
	"testing"

	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// Two users share an email: "a" has an ext_id, the other has none but an
// SMS of its own. Which of them Brevo holds the email for depends on
// processing order; either way both are synced. A lost contact is still a
// problem.
func TestVerifySharedEmailEitherWinner(t *testing.T) {
	const email, sms = "shared@example.com", "+33611111111"
	gr := groups{
		email: map[string]map[string]bool{email: {"a": true, "email:" + email: true}},
		sms:   map[string]map[string]bool{},
		bySMS: map[string]bool{"sms:" + sms: true},
	}
	b := brevosim.Contact{ID: 3, ExtID: "b", Email: "b@example.com"}
	ref := &Snapshot{Contacts: []brevosim.Contact{
		{ID: 1, ExtID: "a"}, {ID: 2, Email: email, SMS: sms}, b,
	}}
	got := &Snapshot{Contacts: []brevosim.Contact{
		{ID: 1, ExtID: "a", Email: email}, {ID: 2, SMS: sms}, b,
	}}
	if p := verify(ref, got, gr); len(p) != 0 {
		t.Fatalf("the other user of the group holding the email: %v, want no problem", p)
	}
	got.Contacts = got.Contacts[:2]
	if p := verify(ref, got, gr); !strings.Contains(strings.Join(p, "\n"), "contact b: in the reference, missing") {
		t.Fatalf("a lost contact: %v, want it reported", p)
	}
}

// A user without an ext_id ("u") shares its email with "a" and its SMS with
// "v". In the reference it claimed the SMS first and was written by it,
// without the email; in the chaos run "v" claimed the SMS first, so "u" had
// no identifier left and was dead-lettered duplicate_email. Both follow the
// first-claim rule; the counts trade places and nothing is lost. A user
// lost on top of that is still reported.
func TestVerifyOrderDependentDuplicateEmail(t *testing.T) {
	const email, sms = "shared@example.com", "+33611111111"
	gr := groups{
		email:          map[string]map[string]bool{email: {"a": true, "email:" + email: true}},
		sms:            map[string]map[string]bool{sms: {"sms:" + sms: true, "v": true}},
		bySMS:          map[string]bool{"sms:" + sms: true},
		orderDependent: 1,
	}
	b := brevosim.Contact{ID: 4, ExtID: "b", Email: "b@example.com"}
	ref := &Snapshot{
		Contacts: []brevosim.Contact{{ID: 1, ExtID: "a", Email: email}, {ID: 2, SMS: sms}, {ID: 3, ExtID: "v"}, b},
		DLQ:      map[string]int{dlqEmailTaken: 1, dlqSMSTaken: 1, "transformer.invalid_email": 2},
	}
	got := &Snapshot{
		Contacts: []brevosim.Contact{{ID: 1, ExtID: "a", Email: email}, {ID: 3, ExtID: "v", SMS: sms}, b},
		DLQ:      map[string]int{dlqDuplicateEmail: 1, "transformer.invalid_email": 2},
	}
	if p := verify(ref, got, gr); len(p) != 0 {
		t.Fatalf("the user without an ext_id dead-lettered instead of written by SMS: %v, want no problem", p)
	}

	lost := *got
	lost.Contacts = got.Contacts[:2]
	if p := strings.Join(verify(ref, &lost, gr), "\n"); !strings.Contains(p, "contact b: in the reference, missing") ||
		!strings.Contains(p, "contacts plus loader.duplicate_email letters: 3 after the chaos run, 4 in the reference") {
		t.Fatalf("a lost contact on top: %v, want it reported", p)
	}

	other := *got
	other.DLQ = map[string]int{dlqDuplicateEmail: 1, "transformer.invalid_email": 3}
	if p := strings.Join(verify(ref, &other, gr), "\n"); !strings.Contains(p, "DLQ by stage.reason") {
		t.Fatalf("another reason's count differing: %v, want it reported", p)
	}

	strict := gr
	strict.orderDependent = 0
	if p := strings.Join(verify(ref, got, strict), "\n"); !strings.Contains(p, "Brevo holds 3 contacts after the chaos run, 4 after the reference run") {
		t.Fatalf("no order-dependent user: %v, want the counts compared exactly", p)
	}
}
