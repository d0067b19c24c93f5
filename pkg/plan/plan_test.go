package plan

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tajo-sync/tajo/proto"
)

func TestPlanKeepsTheNewestUpsertOfAKey(t *testing.T) {
	p := New()
	ctx := context.Background()
	for _, up := range []Write{
		{Record: "b", Op: proto.OpUpdate, SourceVersion: 2, Attributes: map[string]any{"FIRSTNAME": "new"}},
		{Record: "b", Op: proto.OpUpdate, SourceVersion: 1, Attributes: map[string]any{"FIRSTNAME": "old"}},
		{Record: "a", Op: proto.OpCreate, SourceVersion: 1, Email: "a@example.com"},
	} {
		if err := p.PlanWrite(ctx, up); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.PlanWrite(ctx, Write{}); err == nil {
		t.Error("an upsert without a key was accepted")
	}
	cs := p.Contacts()
	// Listed as Brevo knows them: by ext_id, else by email.
	if len(cs) != 2 || cs[0].Key != "b" || cs[1].Key != "email:a@example.com" || cs[0].Attributes["FIRSTNAME"] != "new" {
		t.Fatalf("contacts %+v: want b with the newer content, then a by its email", cs)
	}
	if c, u := p.Creates(), p.Updates(); len(c) != 1 || c[0].Key != "email:a@example.com" || len(u) != 1 || u[0].Key != "b" {
		t.Fatalf("creates %+v, updates %+v", c, u)
	}
}

// The loader runs two batches at once; -race checks the plan for it.
func TestPlanConcurrentUse(t *testing.T) {
	p := New()
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 100 {
				if err := p.PlanWrite(ctx, Write{Record: fmt.Sprintf("k%d-%d", w, i), Op: proto.OpCreate}); err != nil {
					t.Error(err)
				}
				_ = p.PlanAttribute(ctx, fmt.Sprintf("A%d", i%3), "text")
				_ = p.Contacts()
			}
		})
	}
	wg.Wait()
	if n := len(p.Creates()); n != 400 {
		t.Fatalf("%d creates, want 400", n)
	}
	if a := p.Attributes(); len(a) != 3 || a[0].Name != "A0" {
		t.Fatalf("attributes %+v", a)
	}
}
