package brevo

import (
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentClients runs clients in parallel (meaningful under -race): every
// create must land exactly once and ids must stay unique.
func TestConcurrentClients(t *testing.T) {
	h := newHarness(t, Config{})
	const workers, each = 6, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := h.do("POST", "/v3/contacts", map[string]any{"email": fmt.Sprintf("w%d-%d@example.com", w, i), "ext_id": fmt.Sprintf("%d-%d", w, i)})
				if r.status != 201 {
					errs <- fmt.Errorf("worker %d request %d: %d %s", w, i, r.status, r.raw)
				}
				h.do("GET", "/v3/contacts?limit=5", nil)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, c := range h.srv.Contacts() {
		if seen[c.ID] {
			t.Fatalf("id %d given twice", c.ID)
		}
		seen[c.ID] = true
	}
	if len(seen) != workers*each || h.srv.Requests()["POST /v3/contacts 201"] != workers*each {
		t.Fatalf("%d contacts, %v", len(seen), h.srv.Requests())
	}
}
