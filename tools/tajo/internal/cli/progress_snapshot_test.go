package cli

import (
	"strings"
	"testing"

	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
	"github.com/tajo-sync/tajo/tools/tajo/internal/progress"
)

// An incremental sync's progress as app.ReadProgress reads it from the
// ledger: 9,984 of its 10,000 lines settled unchanged by the extractor, 8
// written, the rest on their way: Loaded counts them all. The bar counts
// each user once.
func TestTheBarCountsUnchangedUsersOnce(t *testing.T) {
	p := app.Progress{Status: "exported", Exported: 10000, Total: 10000, Transformed: 16,
		Loaded: 9992}
	s := snapshot(p)
	if s.Loaded != 9992 {
		t.Fatalf("the bar counts %d users loaded, want 9,992 (unchanged counted once)", s.Loaded)
	}
	if bar := progress.Render(s); !strings.Contains(bar, "loaded 9,992") {
		t.Fatalf("bar %q: want loaded 9,992", bar)
	}
}
