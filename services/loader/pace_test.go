package loader_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/services/loader"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// GET /processes shares Brevo's 100 calls an hour: after the first import,
// the loader polls each import about once, when it should be done, instead
// of on a fixed backoff that spends several polls on every import.
func TestImportsArePolledWhenDue(t *testing.T) {
	// Each import takes 0.3 s: several times a fixed backoff's first wait.
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 50 * time.Millisecond, ImportRowsPerSecond: 8000})
	l := newLoader(t, sim, loader.Config{ImportThreshold: 1, FirstPoll: 50 * time.Millisecond})
	ctx := context.Background()
	const imports, rows = 8, 2000
	for b := range imports {
		batch := make([]*pipeline.Msg, rows)
		for i := range batch {
			batch[i] = upsert(t, fmt.Sprintf("u%d-%d", b, i), 1, map[string]any{"FIRSTNAME": "x"})
		}
		for i, err := range handle(l).HandleBatch(ctx, batch) {
			if err != nil {
				t.Fatalf("import %d, record %d: %v", b, i, err)
			}
		}
	}
	polls := 0
	for k, n := range sim.Requests() {
		if strings.HasPrefix(k, "GET /v3/processes/") {
			polls += n
		}
	}
	// The first import is learned on (a few polls); later ones take about
	// one each (budget_test.go measures it on a simulated clock).
	// A fixed doubling backoff from 50 ms spends three or four on each.
	if polls > imports+imports/2+3 {
		t.Errorf("%d polls for %d imports, want about one per import once the pace is known", polls, imports)
	}
	t.Logf("%d polls for %d imports", polls, imports)
}
