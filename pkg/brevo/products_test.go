package brevo

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestProductsAgainstSimulator writes categories and products (created,
// updated, deleted) and reads the email campaign statistics from the
// Brevo simulator.
func TestProductsAgainstSimulator(t *testing.T) {
	c, sim := simClient(t)
	ctx := context.Background()
	if res, err := c.UpsertCategories(ctx, []Category{{ID: "Shoes", Name: "Shoes"}}); err != nil || res.Created != 1 {
		t.Fatalf("UpsertCategories: %+v, %v", res, err)
	}
	price := 9.5
	ps := []Product{
		{ID: "p1", Name: "One", Price: &price, Categories: []string{"Shoes"}, MetaInfo: map[string]string{"brand": "Acme"}},
		{ID: "p2", Name: "Two"},
	}
	if res, err := c.UpsertProducts(ctx, ps); err != nil || res.Created != 2 {
		t.Fatalf("UpsertProducts: %+v, %v", res, err)
	}
	ps[1].IsDeleted = true
	if res, err := c.UpsertProducts(ctx, ps); err != nil || res.Updated != 2 {
		t.Fatalf("UpsertProducts again: %+v, %v", res, err)
	}
	got := sim.Products()
	if len(got) != 2 || got[0].IsDeleted || !got[1].IsDeleted || *got[0].Price != 9.5 || got[0].MetaInfo["brand"] != "Acme" {
		t.Errorf("products: %+v", got)
	}
	// Refused before sending: an id twice, over 100, no name.
	many := make([]Product, 101)
	for i := range many {
		many[i] = Product{ID: fmt.Sprint(i), Name: "x"}
	}
	for _, bad := range [][]Product{{{ID: "a", Name: "A"}, {ID: "a", Name: "A"}}, many, {{ID: "a"}}, nil} {
		if _, err := c.UpsertProducts(ctx, bad); err == nil {
			t.Errorf("%d products accepted", len(bad))
		}
	}
	if n := sim.Shop().ProductBatches; n != 2 {
		t.Errorf("%d batches reached Brevo, want 2", n)
	}
	// A batch Brevo refuses is an error that is not retryable.
	_, err := c.UpsertProducts(ctx, []Product{{ID: "p3", Name: "Three", MetaInfo: map[string]string{
		"a": "1", "b": "1", "c": "1", "d": "1", "e": "1", "f": "1", "g": "1", "h": "1", "i": "1", "j": "1"}}})
	if err != nil {
		t.Fatalf("10 metaInfo keys: %v", err)
	}
	var apiErr *APIError
	if _, err := c.UpsertCategories(ctx, []Category{{ID: "Hats"}}); !errors.As(err, &apiErr) || apiErr.Status != 400 || Retryable(err) {
		t.Errorf("a category without a name: %v", err)
	}

	camps, count, err := c.EmailCampaigns(ctx, 0, 4)
	if err != nil || count != 6 || len(camps) != 4 || camps[0].Stats.Sent == 0 || camps[0].SentDate == "" {
		t.Fatalf("EmailCampaigns page 1: %d of %d, %+v, %v", len(camps), count, camps, err)
	}
	rest, _, err := c.EmailCampaigns(ctx, 4, 4)
	if err != nil || len(rest) != 2 || rest[1].ID == camps[0].ID {
		t.Fatalf("EmailCampaigns page 2: %+v, %v", rest, err)
	}
}
