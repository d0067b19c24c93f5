package restcall

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestRecorder(t *testing.T) {
	var r Recorder[int]
	if got := r.All(); len(got) != 0 {
		t.Fatalf("empty recorder has %v", got)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); r.Observe(i) }()
	}
	wg.Wait()
	got := r.All()
	if len(got) != 4 {
		t.Fatalf("All = %v, want 4 values", got)
	}
	got[0] = 99
	if r.All()[0] == 99 {
		t.Fatal("All returned the recorder's own slice")
	}
}

func TestManualClock(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	c := NewManualClock(start)
	ctx := context.Background()
	if err := c.Wait(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, want := c.Now(), start.Add(time.Minute+time.Second); !got.Equal(want) {
		t.Fatalf("Now = %v, want %v", got, want)
	}
	if got, want := c.Waited(), []time.Duration{time.Second, time.Minute}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Waited = %v, want %v", got, want)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Wait(cctx, time.Hour); err != context.Canceled {
		t.Fatalf("Wait on a cancelled context = %v, want context.Canceled", err)
	}
}
