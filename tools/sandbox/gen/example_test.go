package gen_test

import (
	"fmt"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// Identifiers are derived from the index, so they can be parsed back.
func ExampleGenerator_IndexOfExternalID() {
	g := gen.New(1, 1000)
	id, ok := g.ExternalID(42)
	fmt.Println(id, ok)
	i, ok := g.IndexOfExternalID(id)
	fmt.Println(i, ok)
	// Output:
	// cust_0000042 true
	// 42 true
}

// A profile change shows in the fields a connector maps, never in the ids.
func ExampleGenerator_User() {
	g := gen.New(1, 1000)
	before, after := g.User(1, 0), g.User(1, 1)
	fmt.Println(before["braze_id"] == after["braze_id"], before["first_name"] != after["first_name"])
	// Output:
	// true true
}
