package state_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

func TestCaughtUp(t *testing.T) {
	_, _, js := natsxtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	// Two stages: "before" feeds "own" through the same test stream.
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}}); err != nil {
		t.Fatal(err)
	}
	consumer := func(name, subject string) jetstream.Consumer {
		c, err := js.CreateConsumer(ctx, "T", jetstream.ConsumerConfig{Durable: name, FilterSubject: subject, AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	before, own := consumer("before", "t.a"), consumer("own", "t.b")
	take := func(c jetstream.Consumer) jetstream.Msg {
		t.Helper()
		m, err := c.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	publish := func(subject string) {
		t.Helper()
		if _, err := js.Publish(ctx, subject, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	run := &proto.SyncRun{ID: "r1", Status: proto.RunRunning}
	if err := st.PutRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	check := func(want bool, runs []string, what string) {
		t.Helper()
		got, err := st.CaughtUp(ctx, js, runs, state.Consumer{Stream: "T", Durable: "own"}, state.Consumer{Stream: "T", Durable: "before"})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got != want {
			t.Fatalf("%s: caught up %v, want %v", what, got, want)
		}
	}
	check(false, []string{"r1"}, "the run still publishing")
	run.Status = proto.RunExported
	if err := st.PutRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	check(true, []string{"r1"}, "exported, every stage drained")
	check(false, []string{"r1", ""}, "a message naming no run")

	publish("t.a")
	check(false, []string{"r1"}, "the stage before has a message to deliver")
	m := take(before)
	check(false, []string{"r1"}, "the stage before has not acknowledged its message")
	publish("t.b") // what the stage before made of it
	if err := m.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	check(false, []string{"r1"}, "own has a message to deliver")
	take(own)
	check(true, []string{"r1"}, "own holds its message, unacknowledged: nothing more on its way")

	if _, err := st.CaughtUp(ctx, js, []string{"missing"}, state.Consumer{Stream: "T", Durable: "own"}); err == nil {
		t.Fatal("a run with no record: want an error")
	}
}
