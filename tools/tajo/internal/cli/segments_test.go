package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// TestStatusShowsSegments: the segments resource's last run reads as list
// changes, with each mirrored segment under it.
func TestStatusShowsSegments(t *testing.T) {
	st := sampleStatus()
	start := time.Date(2026, 11, 28, 13, 10, 0, 0, time.UTC)
	end := start.Add(4200 * time.Millisecond)
	st.Resources["segments"] = &runStatus{ID: "20261128T131000Z-cd34ef", Resource: "segments", Type: "incremental", Status: "completed",
		Done: true, StartedAt: start, FinishedAt: &end, DurationMs: 4200, Exported: 500, Created: 200, Updated: 299, Unchanged: 0,
		DeadLettered: 1}
	st.Segments = []app.SegmentStatus{{SegmentID: "3c1f", Name: "engaged_users", ListID: 10, Members: 7100, LastRun: "20261128T131000Z-cd34ef",
		Joined: 200, Left: 300}, {SegmentID: "9d2e", Name: "dormant_users", ListID: 11, Error: "requesting the export: 403 Access Denied"}}
	var b bytes.Buffer
	if err := writeStatus(&b, st); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"  segments incremental 20261128T131000Z-cd34ef completed, started 2026-11-28 13:10:00 UTC, took 4.2s\n",
		"           changes 500: added 200, removed 299, unchanged 0, dead-lettered 1\n",
		"           engaged_users -> list 10: 7,100 members (last run: 200 joined, 300 left)\n",
		"             error: requesting the export: 403 Access Denied\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}
