package state_test

import (
	"context"
	"testing"

	"github.com/tajo-sync/tajo/proto"
)

func TestHealthsRoundTrip(t *testing.T) {
	st := leaseStore(t)
	ctx := context.Background()
	if hs, err := st.Healths(ctx); err != nil || len(hs) != 0 {
		t.Fatalf("no snapshots yet: %v, %v", hs, err)
	}
	for _, h := range []*proto.Health{
		{V: proto.SchemaVersion, Service: "loader", Instance: "b", Breakers: map[string]string{"brevo/contacts": "open"},
			Transitions: map[string]int64{"brevo/contacts closed->open": 1}, Throttled: 3},
		{V: proto.SchemaVersion, Service: "extractor", Instance: "a", Breakers: map[string]string{"braze/default": "closed"}},
		{V: proto.SchemaVersion, Service: "loader", Instance: "b", Breakers: map[string]string{"brevo/contacts": "half-open"},
			Transitions: map[string]int64{"brevo/contacts closed->open": 1, "brevo/contacts open->half-open": 1}, Throttled: 4},
	} {
		if err := st.PutHealth(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	hs, err := st.Healths(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 2 || hs[0].Service != "extractor" || hs[1].Breakers["brevo/contacts"] != "half-open" || hs[1].Throttled != 4 {
		t.Fatalf("healths: %+v, want the latest snapshot of each process, sorted", hs)
	}
}
