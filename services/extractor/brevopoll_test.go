package extractor_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// shifting is a Brevo client whose contacts change while a pass pages
// through them: before some pages, it runs the next change (on the real
// simulator), as people and other tools do while the connector reads.
type shifting struct {
	*brevo.Client
	mu      sync.Mutex
	pages   int
	changes map[int]func() // by page number (0-based): run before that page
}

func (s *shifting) ListContacts(ctx context.Context, p brevo.ListContactsParams) (brevo.ContactsPage, error) {
	s.mu.Lock()
	if f := s.changes[s.pages]; f != nil {
		f()
	}
	s.pages++
	s.mu.Unlock()
	return s.Client.ListContacts(ctx, p)
}

// published reads what the poller put on raw.brevo.contacts: contact id ->
// how many times.
func published(t *testing.T, js jetstream.JetStream) map[int64]int {
	t.Helper()
	ctx := context.Background()
	stream, err := js.Stream(ctx, proto.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]int{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil || m.Subject != proto.SubjectRawBrevoContacts {
			continue
		}
		var rc proto.RawContact
		if err := proto.Decode(m.Data, &rc); err != nil {
			t.Fatal(err)
		}
		out[rc.ID]++
	}
	return out
}

func TestPollerPagesAShiftingSet(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	sim := brevosim.New(brevosim.Config{APIKey: "xkeysib-test", Now: clock})
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	c, err := brevo.New(brevo.Config{BaseURL: ts.URL + "/v3", APIKey: "xkeysib-test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// 40 contacts, ids 1..40, the first 10 modified long ago.
	for i := 1; i <= 40; i++ {
		if i == 11 {
			advance(time.Hour)
		}
		if _, err := c.UpsertContact(ctx, brevo.Contact{Email: fmt.Sprintf("c%d@example.com", i)}); err != nil {
			t.Fatal(err)
		}
		advance(time.Millisecond)
	}
	_, nc, js := natsxtest.Start(t)
	_ = nc
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(id int64) func() {
		return func() {
			if err := sim.EditContact(id, map[string]any{"FIRSTNAME": fmt.Sprint("x", id)}, nil); err != nil {
				t.Error(err)
			}
		}
	}
	del := func(id int64) func() {
		return func() {
			if err := sim.DeleteContact(id); err != nil {
				t.Error(err)
			}
		}
	}
	sc := &shifting{Client: c, changes: map[int]func(){
		// Before the second page: two rows already read vanish (the rows
		// after them shift left), and an old contact joins the set before
		// the position (the rows after it shift right).
		1: func() { del(12)(); del(14)(); edit(3)() },
		// Before the third page: one more row read vanishes, a row not read
		// yet changes.
		2: func() { del(15)(); edit(30)() },
	}}
	p, err := extractor.NewPoller(js, st, sc, extractor.PollConfig{PageSize: 7, Overlap: 30 * time.Minute, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	// The first pass reads what changed in the last Overlap: ids 11..40.
	res, err := p.PollOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := published(t, js)
	for id := int64(11); id <= 40; id++ {
		deleted := id == 12 || id == 14 || id == 15
		if !deleted && got[id] != 1 {
			t.Errorf("contact %d published %d times in the first pass, want once", id, got[id])
		}
	}
	if got[3] > 1 {
		t.Errorf("contact 3 (joined during the pass) published %d times", got[3])
	}
	t.Logf("first pass: %+v", res)
	if res.StepBacks == 0 {
		t.Error("rows vanished before the position, but the pass never stepped back")
	}

	// The next pass re-reads the overlap: what it published already, unchanged,
	// is not published again; contact 3, modified during the first pass, is.
	advance(time.Minute)
	before := got
	if _, err := p.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	got = published(t, js)
	if got[3] != 1 {
		t.Errorf("contact 3 published %d times after two passes, want once", got[3])
	}
	for id, n := range got {
		if id != 3 && n != before[id] {
			t.Errorf("contact %d published again (%d -> %d) though unchanged", id, before[id], n)
		}
	}
	// A change after a pass is published by the next.
	edit(20)()
	advance(time.Minute)
	if _, err := p.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := published(t, js)[20]; n != got[20]+1 {
		t.Errorf("contact 20, changed after a pass, published %d times in all, want %d", n, got[20]+1)
	}
}
