package catalogstate_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tajo-sync/tajo/pkg/catalogstate"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/proto"
)

// TestModifyConcurrent: writers racing for the same shards lose none of
// each other's entries (compare-and-set), and Each walks them all, one
// catalog apart from another.
func TestModifyConcurrent(t *testing.T) {
	_, _, js := natsxtest.Start(t)
	ctx := context.Background()
	st, err := catalogstate.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	const writers, per = 8, 300
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := make([]string, per)
			for i := range ids {
				ids[i] = fmt.Sprintf("w%d-%d", w, i)
			}
			errs <- st.Modify(ctx, "shoes", ids, func(id string, cur catalogstate.Entry, ok bool) (catalogstate.Entry, bool) {
				return catalogstate.Entry{Version: int64(w), Fingerprint: "fp-" + id, Name: id}, true
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Modify(ctx, "hats", []string{"w0-0"}, func(string, catalogstate.Entry, bool) (catalogstate.Entry, bool) {
		return catalogstate.Entry{Deleted: true, Name: "hat"}, true
	}); err != nil {
		t.Fatal(err)
	}
	seen := 0
	err = st.Each(ctx, "shoes", func(id string, e catalogstate.Entry) error {
		if e.Fingerprint != "fp-"+id || e.Name != id || e.Deleted {
			t.Errorf("entry %s: %+v", id, e)
		}
		seen++
		return nil
	})
	if err != nil || seen != writers*per {
		t.Fatalf("Each saw %d entries (%v), want %d", seen, err, writers*per)
	}
	got, err := st.Get(ctx, "hats", []string{"w0-0", "w0-1"})
	if err != nil || len(got) != 1 || !got["w0-0"].Deleted {
		t.Fatalf("hats: %v %v", got, err)
	}
	// write false leaves the entry as it is.
	if err := st.Modify(ctx, "hats", []string{"w0-0"}, func(_ string, cur catalogstate.Entry, _ bool) (catalogstate.Entry, bool) {
		return catalogstate.Entry{Name: "other"}, false
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Get(ctx, "hats", []string{"w0-0"}); got["w0-0"].Name != "hat" {
		t.Errorf("an entry not written changed: %+v", got["w0-0"])
	}
}

func TestCategories(t *testing.T) {
	_, _, js := natsxtest.Start(t)
	ctx := context.Background()
	st, err := catalogstate.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := st.Categories(ctx); err != nil || len(c) != 0 {
		t.Fatalf("no category yet: %v %v", c, err)
	}
	for _, batch := range []map[string]string{{"Shoes": "Shoes"}, {"Hats": "Hats", "Shoes": "Shoes"}} {
		if err := st.AddCategories(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := st.Categories(ctx); err != nil || len(c) != 2 || c["Hats"] != "Hats" {
		t.Fatalf("categories: %v %v", c, err)
	}
}

// OpenWithLedger opens both buckets of the catalog sync, and says which
// one is missing on a server that was not provisioned.
func TestOpenWithLedger(t *testing.T) {
	ctx := context.Background()
	_, _, js := natsxtest.Start(t)
	if st, led, err := catalogstate.OpenWithLedger(ctx, js); err != nil || st == nil || led == nil {
		t.Fatalf("provisioned: %v, %v, %v", st, led, err)
	}
	_, bare := natsxtest.Conn(t, natsxtest.Server(t))
	if _, _, err := catalogstate.OpenWithLedger(ctx, bare); err == nil || !strings.Contains(err.Error(), proto.BucketCatalogs) {
		t.Fatalf("not provisioned: %v, want an error naming %s", err, proto.BucketCatalogs)
	}
}
