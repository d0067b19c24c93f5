package braze

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	brazesim "github.com/tajo-sync/tajo/tools/sandbox/braze"
	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

func TestNextCursor(t *testing.T) {
	for _, tc := range []struct {
		name  string
		links []string
		want  string
		err   bool
	}{
		{"none", nil, "", false},
		{"Braze's example", []string{`</catalogs/all_restaurants/items?cursor=c2tpcDow>; rel="prev",</catalogs/all_restaurants/items?cursor=c2tpcDoxMDA=>; rel="next"`}, "c2tpcDoxMDA=", false},
		{"first page", []string{`<https://rest.iad-03.braze.com/catalogs/x/items?cursor=abc>; rel="next"`}, "abc", false},
		{"last page", []string{`</catalogs/x/items?cursor=abc>; rel="prev"`}, "", false},
		{"two header values", []string{`</a?cursor=p>; rel="prev"`, `</a?cursor=n>; rel=next`}, "n", false},
		{"rel list, spacing", []string{`  </a?cursor=n%2B1> ;  rel="first next" `}, "n+1", false},
		{"comma in a URL", []string{`</a?x=1,2&cursor=n>; rel="next"`}, "n", false},
		{"next without a cursor", []string{`</a?page=2>; rel="next"`}, "", true},
		{"not a link", []string{`garbage; rel="next"`}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NextCursor(tc.links)
			if got != tc.want || (err != nil) != tc.err {
				t.Errorf("NextCursor = %q, %v; want %q (error %v)", got, err, tc.want, tc.err)
			}
		})
	}
}

func FuzzNextCursor(f *testing.F) {
	f.Add(`</catalogs/x/items?cursor=c2tpcDow>; rel="prev",</catalogs/x/items?cursor=c2tpcDoxMDA=>; rel="next"`)
	f.Add(`<>; rel=next`)
	f.Fuzz(func(t *testing.T, link string) {
		cur, err := NextCursor([]string{link})
		if err == nil && cur != "" && len(cur) > len(link)*3 {
			t.Fatalf("a cursor longer than its header: %q from %q", cur, link)
		}
	})
}

// TestCatalogsAgainstSimulator reads a catalog of 120 items through the
// Link cursors, and the analytics endpoints, from the Braze simulator.
func TestCatalogsAgainstSimulator(t *testing.T) {
	sim := brazesim.New(brazesim.Config{APIKey: "braze-sim-key", Gen: gen.New(1, 10), RateLimit: true})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	defer sim.Close()
	if err := sim.PutCatalog("shoes", brazesim.GenerateItems("shoe", 120, 3)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := New(Config{BaseURL: srv.URL, APIKey: "braze-sim-key"})
	if err != nil {
		t.Fatal(err)
	}
	cats, err := c.ListCatalogs(ctx)
	if err != nil || len(cats) != 1 || cats[0].Name != "shoes" || cats[0].NumItems != 120 || len(cats[0].Fields) == 0 {
		t.Fatalf("ListCatalogs: %+v, %v", cats, err)
	}
	var items, pages int
	cursor := ""
	for {
		p, err := c.CatalogItems(ctx, "shoes", cursor)
		if err != nil {
			t.Fatal(err)
		}
		items += len(p.Items)
		pages++
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if items != 120 || pages != 3 {
		t.Errorf("read %d items in %d pages, want 120 in 3", items, pages)
	}
	if _, err := c.CatalogItems(ctx, "boots", ""); !errors.Is(err, ErrCatalogNotFound) {
		t.Errorf("unknown catalog: %v", err)
	}
	if _, err := c.CatalogItems(ctx, "a/b", ""); err == nil {
		t.Error("a name with a slash reached a URL")
	}
	if rl := c.RateLimit()[bucketCatalogs]; rl.Limit != 50 {
		t.Errorf("catalog budget seen: %+v, want 50 a minute", rl)
	}

	listed, err := c.ListCampaigns(ctx, ListQuery{IncludeArchived: true})
	if err != nil || len(listed) == 0 {
		t.Fatalf("ListCampaigns: %d, %v", len(listed), err)
	}
	d, err := c.CampaignDetails(ctx, listed[0].ID)
	if err != nil || d.Name != listed[0].Name || d.FirstSent == "" {
		t.Fatalf("CampaignDetails: %+v, %v", d, err)
	}
	days, err := c.CampaignDataSeries(ctx, listed[0].ID, time.Now(), 3)
	if err != nil || len(days) != 3 || days[2].Time != time.Now().UTC().Format(time.DateOnly) || len(days[2].Messages) == 0 {
		t.Fatalf("CampaignDataSeries: %+v, %v", days, err)
	}
	canvases, err := c.ListCanvases(ctx, ListQuery{})
	if err != nil || len(canvases) == 0 {
		t.Fatalf("ListCanvases: %v, %v", canvases, err)
	}
	cd, err := c.CanvasDetails(ctx, canvases[0].ID)
	if err != nil || len(cd.Steps) == 0 || len(cd.Variants) == 0 {
		t.Fatalf("CanvasDetails: %+v, %v", cd, err)
	}
	cdays, err := c.CanvasDataSeries(ctx, canvases[0].ID, time.Now(), 2)
	if err != nil || len(cdays) != 2 || len(cdays[1].StepStats) != len(cd.Steps) || len(cdays[1].VariantStats) != len(cd.Variants) {
		t.Fatalf("CanvasDataSeries: %+v, %v", cdays, err)
	}
	if _, err := c.CanvasDataSeries(ctx, canvases[0].ID, time.Now(), 15); err == nil {
		t.Error("15 days of a Canvas: no error")
	}
}
