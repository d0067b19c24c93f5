package kvmap_test

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkClaims is what a loader batch does to the claims of a full
// sync, as in the production shape: 54,000 identifiers new to a bucket
// that already holds 200,000, claimed with one Modify (a compare-and-set
// per shard touched). An op is one batch of claims.
func BenchmarkClaims(b *testing.B) {
	ctx := context.Background()
	m := openMap(b)
	const held, batch = 200_000, 54_000
	seed := make(map[string]string, held)
	for i := range held {
		seed[fmt.Sprintf("email:seed-%d@example.com", i)] = fmt.Sprintf("ext:seed-%d", i)
	}
	if err := m.PutMany(ctx, seed); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; b.Loop(); n++ {
		keys := make([]string, batch)
		for i := range keys {
			keys[i] = fmt.Sprintf("email:user-%d-%d@example.com", n, i)
		}
		owners, err := m.Modify(ctx, keys, func(k, cur string, ok bool) (string, bool, bool) {
			if ok {
				return cur, false, false
			}
			return "ext:" + k[len("email:"):], true, false
		})
		if err != nil {
			b.Fatal(err)
		}
		if len(owners) != batch {
			b.Fatalf("%d owners for %d claims", len(owners), batch)
		}
	}
}
