package kvmap

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
)

// Keys in Order fill the shards one after the other: their base shards
// never go back, and each child path below a base shard comes in order.
func TestOrderFollowsTheShards(t *testing.T) {
	m := &Map{baseHex: baseHexDigits}
	keys := make([]string, 5000)
	for i := range keys {
		keys[i] = fmt.Sprintf("user_%07d", i)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(Order(a), Order(b)) })
	for i := 1; i < len(keys); i++ {
		a, b := m.locate(keys[i-1]), m.locate(keys[i])
		if a.base > b.base || a.base == b.base && a.id > b.id {
			t.Fatalf("%s (base %d) before %s (base %d) in Order", keys[i-1], a.base, keys[i], b.base)
		}
	}
}
