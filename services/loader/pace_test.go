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
	// Each import takes 2.1 s: longer than a fixed backoff's first wait.
	sim := brevosim.New(brevosim.Config{APIKey: key, ImportDelay: 100 * time.Millisecond, ImportRowsPerSecond: 1000})
	l := newPacedLoader(t, sim, loader.Config{ImportThreshold: 1})
	ctx := context.Background()
	const imports, rows = 4, 2000
	for b := range imports {
		batch := make([]*pipeline.Msg, rows)
		for i := range batch {
			batch[i] = upsert(t, fmt.Sprintf("u%d-%d", b, i), 1, map[string]any{"FIRSTNAME": "x"})
		}
		for i, err := range l.HandleBatch(ctx, batch) {
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
	// The first import is learned on (two polls); each later one takes one.
	// (A fixed 2 s doubling backoff spends two on every import.)
	if polls > imports+2 {
		t.Errorf("%d polls for %d imports, want about one per import once the pace is known", polls, imports)
	}
	t.Logf("%d polls for %d imports", polls, imports)
}
