package dlq_test

import (
	"testing"

	"github.com/tajo-sync/tajo/pkg/dlq"
)

func TestPurge(t *testing.T) {
	ctx, js := start(t)
	publish(t, ctx, js, mixed...)

	steps := []struct {
		f      dlq.Filter
		purged uint64
		left   string
	}{
		{dlq.Filter{Stage: "loader"}, 2, "acdf"},
		{dlq.Filter{Stage: "loader"}, 0, "acdf"},
		{dlq.Filter{Stage: "transformer", Reason: "bad_payload"}, 1, "acf"},
		{dlq.Filter{Reason: "malformed_json", Stage: "extractor"}, 0, "acf"},
		{dlq.Filter{}, 3, ""},
	}
	for _, s := range steps {
		n, err := dlq.Purge(ctx, js, s.f)
		if err != nil {
			t.Fatalf("Purge(%+v): %v", s.f, err)
		}
		items, err := dlq.List(ctx, js, dlq.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if n != s.purged || datas(items) != s.left {
			t.Fatalf("Purge(%+v) = %d, left %q; want %d, left %q", s.f, n, datas(items), s.purged, s.left)
		}
	}

	if _, err := dlq.Purge(ctx, js, dlq.Filter{Limit: 1}); err == nil {
		t.Fatal("want an error for a purge with a limit")
	}
}
