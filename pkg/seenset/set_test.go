package seenset_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/seenset"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestSetRemembersAcrossReopenAndForgetsAfterWindow(t *testing.T) {
	_, _, js := natsxtest.Start(t)
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	cfg := seenset.Config{Stream: "SEEN_T", Subject: "seen.t", Window: 3 * time.Hour, Bucket: time.Hour, Now: clk.now}
	s, err := seenset.Open(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	clk.add(90 * time.Minute) // a new bucket: the first is sealed
	if err := s.Add(ctx, []string{"c"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		if !s.Contains(id) {
			t.Errorf("%s forgotten within the window", id)
		}
	}
	if s.Contains("d") {
		t.Error("d seen without being added")
	}
	s.Close()

	// A second replica (or a restart) replays what the first wrote.
	s2, err := seenset.Open(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if !s2.Contains("a") || !s2.Contains("c") || s2.Len() != 3 {
		t.Fatalf("replayed set: a=%v c=%v len=%d", s2.Contains("a"), s2.Contains("c"), s2.Len())
	}
	clk.add(3 * time.Hour) // past the window for a, b
	if err := s2.Add(ctx, []string{"e"}); err != nil {
		t.Fatal(err)
	}
	if s2.Contains("a") || !s2.Contains("e") {
		t.Fatalf("after the window: a=%v e=%v", s2.Contains("a"), s2.Contains("e"))
	}
}

func TestSetIsBoundedByMaxIDs(t *testing.T) {
	_, _, js := natsxtest.Start(t)
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	s, err := seenset.Open(ctx, js, seenset.Config{Stream: "SEEN_M", Subject: "seen.m", Bucket: time.Minute, MaxIDs: 250, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for b := range 5 {
		ids := make([]string, 100)
		for i := range ids {
			ids[i] = fmt.Sprint(b, "-", i)
		}
		if err := s.Add(ctx, ids); err != nil {
			t.Fatal(err)
		}
		clk.add(time.Minute)
	}
	if n := s.Len(); n > 250 {
		t.Fatalf("holds %d ids, over MaxIDs 250", n)
	}
	if !s.Contains("4-99") || s.Contains("0-0") {
		t.Fatalf("newest kept %v, oldest dropped %v", s.Contains("4-99"), !s.Contains("0-0"))
	}
}
