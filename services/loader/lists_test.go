package loader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/restcall"
	"github.com/tajo-sync/tajo/proto"
)

// TestListFate: what a failed list call does to the changes it carried.
// A breaker refusing calls while Brevo fails must be retried, not
// dead-lettered (the list would stay wrong for good).
func TestListFate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		permanent bool
	}{
		{"breaker open", &resilience.OpenError{Vendor: "brevo", Bucket: "contacts", Err: gobreaker.ErrOpenState}, false},
		{"5xx", &restcall.StatusError{Status: 502}, false},
		{"reset", &restcall.TransportError{Err: errors.New("connection reset by peer")}, false},
		{"400", &restcall.StatusError{Status: 400}, true},
		{"cancelled", context.Canceled, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := listFate(tc.err)
			var perm *pipeline.PermanentError
			if errors.As(err, &perm) != tc.permanent {
				t.Fatalf("listFate(%v) = %v; permanent %v, want %v", tc.err, err, !tc.permanent, tc.permanent)
			}
		})
	}
}

// inListBrevo is Brevo after a killed lists worker's calls were applied:
// every contact is already in the list, so each add comes back in the
// call's failures and is looked up. It tracks how many look-ups overlap.
type inListBrevo struct {
	mu              sync.Mutex
	inFlight, peak  int
	lookups         int
	list            int64
	lookupRoundTrip time.Duration
}

func (b *inListBrevo) AddToList(_ context.Context, _ int64, m brevo.ListMembers) (brevo.ListResult, error) {
	return brevo.ListResult{Failure: slices.Clone(m.ExtIDs)}, nil
}

func (b *inListBrevo) RemoveFromList(context.Context, int64, brevo.ListMembers) (brevo.ListResult, error) {
	return brevo.ListResult{}, errors.New("not in this test")
}

func (b *inListBrevo) Contact(ctx context.Context, id, _ string) (brevo.ContactInfo, error) {
	b.mu.Lock()
	b.inFlight++
	b.lookups++
	b.peak = max(b.peak, b.inFlight)
	b.mu.Unlock()
	defer func() { b.mu.Lock(); b.inFlight--; b.mu.Unlock() }()
	select {
	case <-ctx.Done():
		return brevo.ContactInfo{}, ctx.Err()
	case <-time.After(b.lookupRoundTrip):
	}
	return brevo.ContactInfo{ID: 1, ListIDs: []int64{b.list}}, nil
}

// TestRedeliveredListChangesAreLookedUpTogether: a redelivered batch
// whose adds Brevo already applied has each contact looked up; those
// look-ups overlap (the contacts bucket's limiter paces them), or a
// resumed segments run takes a round trip per member.
func TestRedeliveredListChangesAreLookedUpTogether(t *testing.T) {
	bv := &inListBrevo{list: 7, lookupRoundTrip: 5 * time.Millisecond}
	l := &Lists{cfg: ListsConfig{UnknownContactRetries: 5}, bv: bv, log: slog.New(slog.DiscardHandler)}
	batch := make([]*pipeline.Msg, 300)
	for i := range batch {
		data, err := proto.Encode(&proto.ListChange{V: proto.SchemaVersion, RunID: "r", ListID: 7, Op: proto.ListAdd,
			BrazeID: fmt.Sprint("b", i), ExtID: fmt.Sprint("x", i)})
		if err != nil {
			t.Fatal(err)
		}
		batch[i] = &pipeline.Msg{Data: data, NumDelivered: 2}
	}
	errs := l.HandleBatch(context.Background(), batch)
	for i, m := range batch {
		if errs[i] != nil {
			t.Fatalf("change %d: %v", i, errs[i])
		}
		if o, _ := m.Outcome(); o != ledger.Unchanged {
			t.Fatalf("change %d settled %v, want unchanged (already in the list)", i, o)
		}
	}
	if bv.lookups != len(batch) {
		t.Errorf("%d look-ups, want one per contact (%d)", bv.lookups, len(batch))
	}
	if bv.peak != verifyConcurrency {
		t.Errorf("at most %d look-ups at once, want %d", bv.peak, verifyConcurrency)
	}
}
