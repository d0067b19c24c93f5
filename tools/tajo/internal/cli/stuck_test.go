package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// A worker that ignores its cancellation does not hang `tajo run`: past the
// wait it stops without it, and says where the worker is stuck.
func TestAwaitWorkersSaysWhereAWorkerIsStuck(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	done := make(chan error, 1)
	go func() { done <- workerIgnoringCancellation(block) }()
	var w bytes.Buffer
	start := time.Now()
	err := awaitWorkers(done, 100*time.Millisecond, &w)
	if err == nil || !strings.Contains(err.Error(), "did not stop within 100ms") {
		t.Fatalf("err %v; want the workers not stopped within 100ms", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("returned after %s", d)
	}
	if !strings.Contains(w.String(), "workerIgnoringCancellation") {
		t.Fatalf("the stuck worker is not named:\n%s", w.String())
	}
	_, stacks, _ := strings.Cut(w.String(), "\n\n")
	for g := range strings.SplitSeq(strings.TrimSpace(stacks), "\n\n") {
		if !strings.Contains(g, "tajo-sync/tajo/") {
			t.Fatalf("a goroutine in no tajo package listed:\n%s", g)
		}
	}

	// A worker that stops in time: its result, nothing written.
	ok := make(chan error, 1)
	ok <- errors.New("loader: boom")
	w.Reset()
	if err := awaitWorkers(ok, time.Second, &w); err == nil || err.Error() != "loader: boom" || w.Len() != 0 {
		t.Fatalf("err %v, wrote %q", err, w.String())
	}
}

func workerIgnoringCancellation(block <-chan struct{}) error {
	<-block
	return nil
}
