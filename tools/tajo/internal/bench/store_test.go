package bench

import (
	"testing"

	"github.com/tajo-sync/tajo/proto"
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
