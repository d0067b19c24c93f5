package brevo

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestEventsAgainstSimulator writes single and batched events to the
// simulator: a batch with an event for an unknown contact answers 207,
// naming that event alone; the others land on their contact's timeline.
func TestEventsAgainstSimulator(t *testing.T) {
	c, sim := simClient(t)
	ctx := context.Background()
	if _, err := c.UpsertContact(ctx, Contact{Email: "a@example.com", ExtID: "user_1"}); err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := c.CreateEvent(ctx, Event{Name: "product_viewed", ExtID: "user_1", Date: when,
		Properties: map[string]any{"sku": "A1"}}); err != nil {
		t.Fatal(err)
	}
	res, err := c.CreateEvents(ctx, []Event{
		{Name: "email_opened", ExtID: "user_1"},
		{Name: "email_opened", ExtID: "nobody"},
		{Name: "email_clicked", Email: "a@example.com", Properties: map[string]any{"url": "https://x"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || !strings.Contains(res.Failed[1], "Contact does not exist") {
		t.Fatalf("failed = %v, want only index 1 (unknown contact)", res.Failed)
	}
	ct, ok := sim.ContactByExtID("user_1")
	if !ok {
		t.Fatal("contact user_1 missing")
	}
	evs := sim.Events(ct.ID)
	if len(evs) != 3 || evs[0].Name != "product_viewed" || !evs[0].Date.Equal(when) {
		t.Fatalf("timeline = %+v", evs)
	}
	if err := c.CreateEvent(ctx, Event{Name: "x"}); err == nil {
		t.Fatal("an event naming no contact was sent")
	}
}
