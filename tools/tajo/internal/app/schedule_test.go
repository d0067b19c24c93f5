package app

import (
	"strings"
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Schedule{Interval: 15 * time.Minute, FullEvery: time.Hour}
	if got := s.Next(t0); got != "full" {
		t.Fatalf("first sync = %s, want full", got)
	}
	s.Ran("full", t0)
	var got []string
	for k := 1; k <= 8; k++ {
		now := t0.Add(time.Duration(k)*s.Interval + 3*time.Second) // a tick, a little late
		typ := s.Next(now)
		s.Ran(typ, now)
		got = append(got, typ)
	}
	want := "incremental incremental incremental full incremental incremental incremental full"
	if strings.Join(got, " ") != want {
		t.Errorf("syncs = %s\nwant    %s", strings.Join(got, " "), want)
	}

	// A tick slightly early is still the full one.
	s = Schedule{Interval: time.Minute, FullEvery: 3 * time.Minute}
	s.Ran("full", t0)
	if got := s.Next(t0.Add(3*time.Minute - time.Second)); got != "full" {
		t.Errorf("a tick 1s early = %s, want full", got)
	}
	if got := s.Next(t0.Add(2 * time.Minute)); got != "incremental" {
		t.Errorf("two minutes in = %s, want incremental", got)
	}

	// FullEvery 0: only the first.
	s = Schedule{Interval: time.Minute}
	s.Ran("full", t0)
	if got := s.Next(t0.Add(1000 * time.Hour)); got != "incremental" {
		t.Errorf("without full_every = %s", got)
	}
}
