package restcall

import (
	"context"
	"errors"
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
	if err := c.Sleep(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.Sleep(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Hour)
	if got, want := c.Now(), start.Add(time.Hour+time.Minute+time.Second); !got.Equal(want) {
		t.Fatalf("Now = %v, want %v", got, want)
	}
	if got, want := c.Slept(), []time.Duration{time.Second, time.Minute}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Slept = %v, want %v", got, want)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Sleep(cctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
	if got := len(c.Slept()); got != 2 {
		t.Fatalf("a cancelled Sleep was recorded: %v", c.Slept())
	}
}

func TestSystemClockSleep(t *testing.T) {
	var c SystemClock
	if err := c.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep = %v, want nil", err)
	}
	if err := c.Sleep(context.Background(), -time.Second); err != nil {
		t.Fatalf("Sleep(negative) = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep(0) on a cancelled context = %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := c.Sleep(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Sleep(1h) = %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Sleep outlived its context by %v", d)
	}
}
