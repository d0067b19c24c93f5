package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/tools/sandbox"
)

// Two extractors: one leads through the schedule lease, the other waits;
// when the leader dies in the middle of an export (its connection cut, no
// goodbye), the standby takes the lease over once it expires and resumes
// the same run to the end, each line in RAW once.
func TestStandbyExtractorResumesTheRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const users = 20000
	sb, err := sandbox.Start(ctx, sandbox.Options{Users: users, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	srv, _, js := natsxtest.Start(t)
	m, err := mapping.New(mapping.Options{Fields: mapping.DefaultFieldMapping()})
	if err != nil {
		t.Fatal(err)
	}
	fields, custom := m.ExportFields()
	const ttl = 3 * time.Second
	replica := func(name string) (*extractor.Extractor, *nats.Conn) {
		nc, rjs := natsxtest.Conn(t, srv)
		st, err := state.NewStore(ctx, rjs)
		if err != nil {
			t.Fatal(err)
		}
		bz, err := braze.New(braze.Config{BaseURL: sb.BrazeURL, APIKey: sb.BrazeAPIKey})
		if err != nil {
			t.Fatal(err)
		}
		e, err := extractor.New(rjs, bz, st, extractor.Config{FieldsToExport: fields, CustomAttributesToExport: custom,
			TempDir: t.TempDir(), Poll: braze.Backoff{Initial: 50 * time.Millisecond, Max: 200 * time.Millisecond},
			Instance: name, LeaseTTL: ttl, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return e, nc
	}
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	holder := func() string {
		e, err := st.KeyValue().Get(ctx, "lease."+extractor.ScheduleLease)
		if err != nil {
			return ""
		}
		name, _, _ := strings.Cut(string(e.Value()), "/")
		return name
	}
	waitFor := func(what string, within time.Duration, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(within); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not after %s", what, within)
			}
		}
	}

	first, nc1 := replica("first")
	done1 := make(chan error, 1)
	go func() { done1 <- first.Run(ctx, nc1, 0) }()
	waitFor("the first extractor leads", 10*time.Second, func() bool { return holder() == "first" })
	second, nc2 := replica("second")
	ctx2, stop2 := context.WithCancel(ctx)
	done2 := make(chan error, 1)
	go func() { done2 <- second.Run(ctx2, nc2, 0) }()
	time.Sleep(3 * ttl)
	if h := holder(); h != "first" {
		t.Fatalf("the lease moved to %q while its leader lived", h)
	}

	// Only the leader answers on the control subject.
	msg, err := nc2.Request(proto.SubjectSyncRequest, []byte(`{"type":"full"}`), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var rep proto.SyncReply
	if err := json.Unmarshal(msg.Data, &rep); err != nil || rep.RunID == "" {
		t.Fatalf("sync request: %s (%v)", msg.Data, err)
	}
	// count is the users RAW holds (lines travel in packs).
	var items int
	var seen uint64
	count := func() uint64 {
		n, last := natsxtest.StreamItems(t, ctx, js, proto.StreamRaw, proto.SubjectRawBrazeUsers, seen)
		items, seen = items+n, last
		return uint64(items)
	}
	waitFor("the leader publishing the export", time.Minute, func() bool { return count() > 1000 })
	// The leader dies: its connection is gone, the run stays running, the
	// lease is not released.
	nc1.Close()
	<-done1
	if n := count(); n >= users {
		t.Fatalf("the export finished (%d lines) before the leader died: nothing to resume", n)
	}
	waitFor("the standby takes the lease over", 10*ttl+10*time.Second, func() bool { return holder() == "second" })
	waitFor("the resumed run exported", 2*time.Minute, func() bool {
		r, err := st.GetRun(ctx, rep.RunID)
		return err == nil && r.Status == proto.RunExported
	})
	r, err := st.GetRun(ctx, rep.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Exported+r.Malformed != users {
		t.Errorf("resumed run exported %d (+%d malformed) lines, want %d", r.Exported, r.Malformed, users)
	}
	// Lines the dead leader published again under the same Nats-Msg-Id are
	// stored once; a resumed run whose export was asked for again (the
	// first was not recorded before the death) may publish a line again
	// under a new content hash, which the ledger and the fingerprints
	// absorb downstream. None may be missing.
	if n := count(); n < uint64(r.Exported) {
		t.Errorf("RAW holds %d users for %d lines exported: lines were lost", n, r.Exported)
	} else {
		t.Logf("RAW holds %d users for %d lines (%d published before the leader died were not deduplicated)", n, r.Exported, n-uint64(r.Exported))
	}
	last, err := st.LastRun(ctx, extractor.Resource)
	if err != nil || last.ID != rep.RunID {
		t.Errorf("the last run is %v (%v), want the resumed %s: the standby started another", last, err, rep.RunID)
	}
	stop2()
	if err := <-done2; err != nil {
		t.Errorf("standby: %v", err)
	}
}
