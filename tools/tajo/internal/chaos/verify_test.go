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
