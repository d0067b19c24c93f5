package status_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/pkg/status"
	"github.com/tajo-sync/tajo/proto"
)

// An open breaker in a process that reports is what holds the work back,
// and the status says so, with what waits for it; a closed one, or one
// last reported by a process that stopped, holds nothing back.
func TestWaitingNamesTheOpenBreakers(t *testing.T) {
	_, _, js := natsxtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, h := range []*proto.Health{
		{Service: "loader", Instance: "a", At: now.UnixMilli(), Breakers: map[string]string{"brevo/contacts": "open", "brevo/other": "closed"}},
		{Service: "extractor", Instance: "b", At: now.UnixMilli(), Breakers: map[string]string{"braze/default": "open"}},
		{Service: "transformer", Instance: "c", At: now.UnixMilli(), Breakers: map[string]string{"braze/default": "half-open"}},
		{Service: "loader", Instance: "gone", At: now.Add(-5 * time.Minute).UnixMilli(), Breakers: map[string]string{"brevo/contacts": "open"}},
	} {
		h.V = proto.SchemaVersion
		if err := st.PutHealth(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	s, err := status.Read(ctx, js, status.Connection{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Breakers) != 5 {
		t.Errorf("%d breakers listed, want all 5 reported", len(s.Breakers))
	}
	if len(s.Waiting) != 2 {
		t.Fatalf("waiting: %q; want the two open breakers of processes still reporting", s.Waiting)
	}
	for i, want := range []struct{ who, what string }{
		{"extractor@b: circuit breaker braze/default open", "calls to Braze fail at once"},
		{"loader@a: circuit breaker brevo/contacts open", "the loaders fetch nothing"},
	} {
		if w := s.Waiting[i]; !strings.HasPrefix(w, want.who) || !strings.Contains(w, want.what) {
			t.Errorf("waiting[%d] = %q; want %q ... %q", i, w, want.who, want.what)
		}
	}

	// Nothing open: nothing held back, an empty list (not null) in JSON.
	if err := st.PutHealth(ctx, &proto.Health{V: proto.SchemaVersion, Service: "loader", Instance: "a", At: now.UnixMilli(),
		Breakers: map[string]string{"brevo/contacts": "closed"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutHealth(ctx, &proto.Health{V: proto.SchemaVersion, Service: "extractor", Instance: "b", At: now.UnixMilli(),
		Breakers: map[string]string{"braze/default": "closed"}}); err != nil {
		t.Fatal(err)
	}
	if s, err = status.Read(ctx, js, status.Connection{}); err != nil {
		t.Fatal(err)
	}
	if s.Waiting == nil || len(s.Waiting) != 0 {
		t.Errorf("waiting: %#v, want an empty list", s.Waiting)
	}
}
