package plan

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/tajo-sync/tajo/proto"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func samplePlan(t *testing.T) *Plan {
	t.Helper()
	p := New()
	ctx := context.Background()
	for _, up := range []Write{
		{Record: "u1", ExtID: "u1", Email: "ann@example.com", Op: proto.OpCreate},
		{Record: "u2", ExtID: "u2", Email: "bob@example.com", Op: proto.OpCreate},
		{Record: "u3", ExtID: "u3", Op: proto.OpCreate},
		{Record: "u4", ExtID: "u4", Email: "dan@example.com", Op: proto.OpUpdate},
	} {
		if err := p.PlanWrite(ctx, up); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.PlanAttribute(ctx, "LOYALTY_TIER", "text"); err != nil {
		t.Fatal(err)
	}
	p.setDiff("u1", true, []Change{{Attribute: "FIRSTNAME", From: "Ann", To: "Anna"}})
	p.setDiff("u2", false, []Change{{Attribute: "FIRSTNAME", To: "Bob"}, {Attribute: "REVENUE", To: 12.5}})
	p.setDiff("u4", true, []Change{{Attribute: "CITY", From: "Lyon", To: nil}})
	return p
}

func TestWriteGolden(t *testing.T) {
	cases := []struct {
		name string
		r    Report
	}{
		{"plan_totals.golden", Report{RunID: "20261128T130501Z-ab12cd", Type: "full", Exported: 7, Unchanged: 1,
			DeadLettered: 2, DeadLetters: map[string]int64{"loader/duplicate_email": 1, "extractor/malformed_json": 1}}},
		{"plan_diffs.golden", Report{RunID: "20261128T130501Z-ab12cd", Type: "incremental", Exported: 4,
			Show: 2, Checked: 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := samplePlan(t).Write(&b, c.r); err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, b.Bytes())
		})
	}
}
