package extractor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/kvmap"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// A full run publishes its users in the order of their contact key's shard
// (kvmap.Order), numbered in that order after the lines naming no user
// (dead-lettered as they are read; an empty line has no number), every
// user once, and leaves no spool of its users behind.
func TestFullRunPublishesInKeyOrder(t *testing.T) {
	ctx, js, st := startStore(t, time.Minute)
	bz := &zipBraze{}
	const users = 3000
	for i := range users {
		if i%10 == 3 { // keyed by braze_id
			bz.lines = append(bz.lines, fmt.Sprintf(`{"braze_id":"b%04d","email":"u%04d@example.com"}`, i, i))
			continue
		}
		bz.lines = append(bz.lines, userLine(i, 0))
	}
	bz.lines = slices.Insert(bz.lines, 1000, "not json", "", `{"no_id":true}`)
	// The run numbers the lines naming no user first (0, 1), then the
	// users in the order it publishes them; an empty line has no number.
	want := map[string]bool{}
	for _, l := range bz.lines {
		if _, _, reason, _ := userOf([]byte(l)); l != "" && reason == "" {
			want[l] = true
		}
	}
	tmp := t.TempDir()
	e, err := New(js, bz, st, Config{FieldsToExport: []string{"external_id"}, TempDir: tmp,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	run, err := e.Sync(ctx, "full")
	if err != nil {
		t.Fatal(err)
	}
	if run.Exported != users || run.Malformed != 2 {
		t.Fatalf("exported %d, malformed %d; want %d and 2", run.Exported, run.Malformed, users)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
		t.Errorf("the run left %v in its temp dir", left)
	}

	type item struct {
		no   int64
		line string
	}
	var (
		mu  sync.Mutex
		got []item
	)
	w, err := pipeline.NewWorker(js, pipeline.Config{
		Stream: proto.StreamRaw, Subject: proto.SubjectRawBrazeUsers, Stage: proto.StageTransformer,
		PackItems: pipeline.DefaultPackItems, Concurrency: 1, BatchWait: 10 * time.Millisecond,
	}, pipeline.HandlerFunc(func(_ context.Context, batch []*pipeline.Msg) []error {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range batch {
			_, no, ok := m.Line()
			var raw proto.RawUser
			if err := proto.Decode(m.Data, &raw); err != nil || !ok {
				t.Errorf("item %s: line %v, %v", m.Data, ok, err)
				continue
			}
			got = append(got, item{no, string(raw.Line)})
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= users {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d users reached RAW's consumer", n, users)
		case <-time.After(20 * time.Millisecond):
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	seen := map[string]bool{}
	var last uint64
	for k, it := range got {
		if it.no != int64(2+k) {
			t.Fatalf("user %d published as line %d, want %d: numbered as published, after the 2 lines naming no user", k, it.no, 2+k)
		}
		if !want[it.line] || seen[it.line] {
			t.Fatalf("published %s: in the export %v, published before %v", it.line, want[it.line], seen[it.line])
		}
		seen[it.line] = true
		_, key, err := mapping.Identity([]byte(it.line))
		if err != nil {
			t.Fatal(err)
		}
		if o := kvmap.Order(key); o < last {
			t.Fatalf("user %d published (%s, line %d) is out of key order", k, key, it.no)
		} else {
			last = o
		}
	}
	if len(seen) != users {
		t.Fatalf("%d users published, want %d", len(seen), users)
	}
}
