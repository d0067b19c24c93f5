package bench

import (
	"slices"
	"testing"

	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// deadLettered names the user of a dead letter from either kind of original
// message: a RawUser (the transformer's) or a ContactUpsert (the loader's).
func TestBrazeIDOfEitherOriginal(t *testing.T) {
	for _, m := range []proto.Versioned{
		&proto.RawUser{V: proto.SchemaVersion, RunID: "r", BrazeID: "raw-1", ExportedAt: 7, Line: []byte(`{"braze_id":"raw-1"}`)},
		&proto.ContactUpsert{V: proto.SchemaVersion, RunID: "r", BrazeID: "ops-1", Key: "k", Attributes: map[string]any{"A": 1.0}},
	} {
		b, err := proto.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		var u proto.ContactUpsert
		if err := proto.Decode(b, &u); err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		if u.BrazeID == "" || u.BrazeID[len(u.BrazeID)-1] != '1' {
			t.Errorf("%T: braze_id %q", m, u.BrazeID)
		}
	}
}

// pickClean picks distinct users, none it was told to skip, the same for
// the same seed and others for another.
func TestPickClean(t *testing.T) {
	g := gen.New(1, 10000)
	skip := map[string]string{}
	for i := 0; i < 10000; i += 3 {
		skip[g.BrazeID(i)] = "transformer.invalid_email"
	}
	a := pickClean(g, 100, 1, skip)
	if len(a) != 100 {
		t.Fatalf("picked %d, want 100", len(a))
	}
	seen := map[int]bool{}
	for _, i := range a {
		if seen[i] || i%3 == 0 || i < 0 || i >= 10000 {
			t.Fatalf("picked %d: a repeat, skipped or out of range (%v)", i, a)
		}
		seen[i] = true
	}
	if b := pickClean(g, 100, 1, skip); !slices.Equal(a, b) {
		t.Error("the same seed picked other users")
	}
	if c := pickClean(g, 100, 2, skip); slices.Equal(a, c) {
		t.Error("another seed picked the same users")
	}
	if all := pickClean(g, 20000, 1, nil); len(all) != 10000 {
		t.Errorf("asked for more than there are: %d, want all 10000", len(all))
	}
}
