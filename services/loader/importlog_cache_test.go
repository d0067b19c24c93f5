package loader

import (
	"context"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/restcall"
	"github.com/tajo-sync/tajo/pkg/state"
)

// A replica keeps the row hashes of another's import only while it is
// recorded: once its loader forgets it, they go from every replica's
// memory too.
func TestRowHashesGoWithTheirRecord(t *testing.T) {
	ctx := context.Background()
	_, _, js := natsxtest.Start(t)
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	a, b := newImportLog(st, restcall.SystemClock{}), newImportLog(st, restcall.SystemClock{})
	rows := func(names ...string) *Rows {
		r := &Rows{}
		for _, n := range names {
			if err := r.Add(brevo.ImportContact{ExtID: n}, RowMeta{Key: n, Version: 1}); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	if err := a.record(ctx, 7, time.Now(), rows("u1", "u2"), []int{0, 1}); err != nil {
		t.Fatal(err)
	}
	// Other rows: nothing to wait for, but the record's hashes are read.
	if got, err := b.imported(ctx, rows("u3"), nil); err != nil || got != nil {
		t.Fatalf("rows no import recorded: %v, %v", got, err)
	}
	if len(b.hashes) != 1 {
		t.Fatalf("%d imports' hashes held, want the recorded one", len(b.hashes))
	}
	if err := a.forget(ctx, []int64{7}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.imported(ctx, rows("u3"), nil); err != nil {
		t.Fatal(err)
	}
	if len(b.hashes) != 0 {
		t.Fatalf("%d imports' hashes held after the record was forgotten, want none", len(b.hashes))
	}
}
