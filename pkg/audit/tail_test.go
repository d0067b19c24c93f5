package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
)

func publishN(t *testing.T, rec *Recorder, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		rec.Record(Entry{Time: time.Unix(int64(i), 0), Vendor: "brevo", Method: "POST",
			Path: fmt.Sprintf("/n%d", i), Status: 204, Attempt: 1, Service: "loader"})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func paths(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Path
	}
	return out
}

func TestTailLastN(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, js := natsxtest.Start(t)
	rec := New(js, Options{})
	t.Cleanup(func() { _ = rec.Close(context.Background()) })

	var none []Entry
	if err := Tail(ctx, js, 5, false, func(e Entry) { none = append(none, e) }); err != nil || len(none) != 0 {
		t.Fatalf("empty stream: %v, %v", none, err)
	}
	publishN(t, rec, 1, 10)
	for _, tt := range []struct {
		n    int
		want string
	}{
		{3, "[/n8 /n9 /n10]"},
		{10, "[/n1 /n2 /n3 /n4 /n5 /n6 /n7 /n8 /n9 /n10]"},
		{50, "[/n1 /n2 /n3 /n4 /n5 /n6 /n7 /n8 /n9 /n10]"},
		{0, "[]"},
	} {
		var got []Entry
		if err := Tail(ctx, js, tt.n, false, func(e Entry) { got = append(got, e) }); err != nil {
			t.Fatal(err)
		}
		if s := fmt.Sprint(paths(got)); s != tt.want {
			t.Errorf("Tail n=%d: %s, want %s", tt.n, s, tt.want)
		}
	}
}

func TestTailFollow(t *testing.T) {
	_, _, js := natsxtest.Start(t)
	rec := New(js, Options{})
	t.Cleanup(func() { _ = rec.Close(context.Background()) })
	publishN(t, rec, 1, 4)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu  sync.Mutex
		got []Entry
	)
	done := make(chan error, 1)
	go func() {
		done <- Tail(ctx, js, 2, true, func(e Entry) {
			mu.Lock()
			got = append(got, e)
			mu.Unlock()
		})
	}()
	seen := func(n int) bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= n
	}
	waitFor(t, func() bool { return seen(2) })
	publishN(t, rec, 5, 6)
	waitFor(t, func() bool { return seen(4) })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Tail after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Tail -f did not return after cancel")
	}
	mu.Lock()
	defer mu.Unlock()
	if s := fmt.Sprint(paths(got)); s != "[/n3 /n4 /n5 /n6]" {
		t.Errorf("followed %s", s)
	}
}

func TestTailWithoutStream(t *testing.T) {
	e := natsxtest.Server(t)
	_, js := natsxtest.Conn(t, e)
	err := Tail(context.Background(), js, 5, false, func(Entry) {})
	if !errors.Is(err, ErrNoAuditStream) {
		t.Errorf("Tail on a server without the stream: %v", err)
	}
}
