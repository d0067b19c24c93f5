package bench

import (
	"bytes"
	"strings"
	"testing"
)

func TestSegmentDiff(t *testing.T) {
	r, err := SegmentDiff(t.TempDir(), 20000, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if r.Left < 150 || r.Left > 250 || r.Joined != r.Left || r.FileBytes == 0 {
		t.Fatalf("%+v: want about 200 left, as many joined", r)
	}
	var b bytes.Buffer
	PrintSegmentDiff(&b, []SegmentDiffResult{r, r})
	if !strings.Contains(b.String(), "segment_diff: 20000 members, 1% churn: ") || !strings.Contains(b.String(), "segment_diff.20000: ") {
		t.Fatalf("report:\n%s", b.String())
	}
}
