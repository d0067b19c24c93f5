package extractor

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// One user line larger than the bus takes (a 2 MiB custom attribute, under
// the export reader's 16 MiB line limit) used to fail the run at publish,
// with no dead letter, on every run. It is dead-lettered as too_large with
// its braze_id and size, not its body, and the lines after it go on.
func TestOversizedLineIsDeadLetteredAndTheRestGoOn(t *testing.T) {
	ctx := context.Background()
	_, nc, js := natsxtest.Start(t)
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(js, noBraze{}, st, Config{FieldsToExport: []string{"external_id"}, TempDir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	run := &proto.SyncRun{ID: "r1", ExportedAt: 1}
	big, _ := json.Marshal(map[string]any{"braze_id": "huge", "custom_attributes": map[string]string{"notes": strings.Repeat("x", 2<<20)}})
	if int64(len(big)) <= nc.MaxPayload() {
		t.Fatalf("the test line (%d bytes) must exceed the server's max payload %d", len(big), nc.MaxPayload())
	}
	for i, line := range [][]byte{[]byte(`{"braze_id":"before"}`), big, []byte(`{"braze_id":"after"}`)} {
		if err := e.publishLine(ctx, run, braze.Line{Entry: "part-0.txt", No: i + 1, Data: line}, nil); err != nil {
			t.Fatalf("line %d: %v (one oversized record must not fail the run)", i+1, err)
		}
	}
	if err := e.flushMarks(ctx, run); err != nil {
		t.Fatal(err)
	}
	if run.Exported != 2 || run.Malformed != 1 {
		t.Fatalf("exported %d, dead-lettered %d; want 2 and 1", run.Exported, run.Malformed)
	}
	s, err := js.Stream(ctx, proto.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(ctx, proto.DLQSubject(proto.StageExtractor, "too_large"))
	if err != nil {
		t.Fatalf("no too_large dead letter: %v", err)
	}
	var dl proto.DeadLetter
	if err := proto.Decode(m.Data, &dl); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dl.Detail, "huge") || !strings.Contains(dl.Detail, "bytes") || strings.Contains(string(dl.Data), "xxxx") {
		t.Errorf("dead letter %q with %d bytes of data: want the braze_id and size, not the body", dl.Detail, len(dl.Data))
	}
	if n, _ := natsxtest.StreamItems(t, ctx, js, proto.StreamRaw, proto.SubjectRawBrazeUsers, 0); n != 2 {
		t.Errorf("RAW holds %d users, want the 2 that fit", n)
	}
}

// noBraze is the edge the test never reaches: lines are handed in directly.
type noBraze struct{}

func (noBraze) FindSegment(context.Context, string) (braze.Segment, error) {
	panic("not reached")
}

func (noBraze) ExportSegment(context.Context, braze.ExportSegmentRequest) (braze.ExportSegmentResult, error) {
	panic("not reached")
}

func (noBraze) WaitExport(context.Context, string, func() (io.WriteCloser, error), braze.Backoff) (int64, error) {
	panic("not reached")
}
