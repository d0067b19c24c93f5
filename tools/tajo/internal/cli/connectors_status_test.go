package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// sampleStatus has every part of the status filled in, with fixed times.
func sampleStatus() *connectorStatus {
	start := time.Date(2026, 11, 28, 13, 5, 1, 0, time.UTC)
	end := start.Add(12340 * time.Millisecond)
	last := &runStatus{ID: "20261128T130501Z-ab12cd", Resource: "users", Type: "incremental", Status: "completed", Done: true,
		StartedAt: start, FinishedAt: &end, DurationMs: 12340, Exported: 10000, Created: 12, Updated: 340,
		Unchanged: 9640, DeadLettered: 8}
	return &connectorStatus{
		Connector: "braze", Connected: false,
		Connection: connectionStatus{
			Braze: vendorCheck{OK: true, Check: "GET /segments/list"},
			Brevo: vendorCheck{Check: "GET /contacts?limit=1", Error: "brevo: GET /contacts: 401 unauthorized: Key not found"},
		},
		LastSync: last, UsersCount: 10000,
		Resources: map[string]*runStatus{"users": last},
		Runs:      []*runStatus{last},
		Consumers: []consumerLag{
			{Stream: "RAW", Consumer: "transformer-users", Exists: true, Pending: 1200, AckPending: 500},
			{Stream: "OPS", Consumer: "loader-contacts"},
		},
		DeadLetters: []deadLetterCount{{Stage: "extractor", Reason: "malformed_json", Count: 3}, {Stage: "loader", Reason: "duplicate_email", Count: 5}},
		Waiting:     []string{"loader@a: circuit breaker brevo/contacts open (reported 13:06:01 UTC): the loaders fetch nothing while a Brevo breaker is open"},
		State:       "/home/ann/.tajo/nats",
		ReadAt:      end.Add(time.Minute),
	}
}

func TestStatusGolden(t *testing.T) {
	var text, js bytes.Buffer
	if err := writeStatus(&text, sampleStatus()); err != nil {
		t.Fatal(err)
	}
	golden(t, "connectors_status.golden", text.Bytes())
	if err := writeStatusJSON(&js, sampleStatus()); err != nil {
		t.Fatal(err)
	}
	golden(t, "connectors_status_json.golden", js.Bytes())

	empty := &connectorStatus{Connector: "braze", Resources: map[string]*runStatus{}, DeadLetters: []deadLetterCount{},
		Connection: connectionStatus{
			Braze: vendorCheck{Check: "GET /segments/list", Error: "BRAZE_API_KEY is not set: export it, or store it with `tajo connectors install braze`"},
			Brevo: vendorCheck{Check: "GET /contacts?limit=1", Error: "BREVO_API_KEY is not set: export it, or store it with `tajo connectors install braze`"},
		}}
	text.Reset()
	if err := writeStatus(&text, empty); err != nil {
		t.Fatal(err)
	}
	golden(t, "connectors_status_empty.golden", text.Bytes())
}

// TestStatusWithoutState: a home where nothing ran, with a wrong Brevo key.
// The status says what is wrong, reads no store (and creates none), and
// exits non-zero.
func TestStatusWithoutState(t *testing.T) {
	e := newConnectorsEnv(t, 10)
	t.Setenv("BREVO_API_KEY", "xkeysib-wrong")
	out, err := e.tajo(t, "connectors", "status", "braze", "--json")
	if err == nil {
		t.Fatal("status with a wrong Brevo key: want a non-zero exit")
	}
	var st connectorStatus
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if st.Connected || !st.Connection.Braze.OK || st.Connection.Brevo.OK || !strings.Contains(st.Connection.Brevo.Error, "401") {
		t.Errorf("connection %+v: want Braze ok, Brevo refused with 401", st.Connection)
	}
	if st.LastSync != nil || st.State != "" || st.Breakers != nil {
		t.Errorf("status of a fresh home: %+v", st)
	}
}

// TestSyncFollowsARunningDeployment: with NATS_URL pointing at a server
// where an extractor answers, sync asks it for a run and follows the run
// until every stage has handled it. The "extractor" here answers the
// control subject and plays the run's stages in the state bucket.
func TestSyncFollowsARunningDeployment(t *testing.T) {
	e := newConnectorsEnv(t, 10)
	srv, nc, js := natsxtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	// The stages' durable consumers, idle: the run's work is all handled.
	for i, c := range app.LagConsumers[:2] { // the users sync's stages
		subject := []string{proto.SubjectRawBrazeUsers, proto.SubjectOpsBrevoContactsUpsert}[i]
		if _, err := js.CreateOrUpdateConsumer(ctx, c.Stream, jetstream.ConsumerConfig{Durable: c.Durable,
			FilterSubject: subject, AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}
	}
	askedFor := make(chan string, 1)
	sub, err := nc.Subscribe(proto.SubjectSyncRequest, func(m *nats.Msg) {
		var asked proto.SyncRequest
		_ = json.Unmarshal(m.Data, &asked)
		askedFor <- asked.Type
		run := &proto.SyncRun{ID: state.NewID(), Resource: "users", Type: asked.Type, Status: proto.RunExported,
			StartedAt: time.Now().UnixMilli(), Exported: 7}
		if err := st.PutRun(ctx, run); err != nil {
			t.Error(err)
		}
		// The stages' outcomes, as they record them in the run's ledger.
		led, err := ledger.Open(ctx, js, proto.BucketLedger)
		if err != nil {
			t.Error(err)
		}
		for stage, marks := range map[string][]ledger.Mark{
			proto.StageTransformer: {{Line: 0, Outcome: ledger.Unchanged}, {Line: 1, Outcome: ledger.Unchanged}},
			proto.StageLoader: {{Line: 2, Outcome: ledger.Created}, {Line: 3, Outcome: ledger.Created},
				{Line: 4, Outcome: ledger.Created}, {Line: 5, Outcome: ledger.Created}, {Line: 6, Outcome: ledger.Updated}},
		} {
			if err := led.Mark(ctx, run.ID, stage, marks); err != nil {
				t.Error(err)
			}
		}
		b, _ := json.Marshal(proto.SyncReply{RunID: run.ID})
		_ = m.Respond(b)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	t.Setenv("NATS_URL", srv.ClientURL())

	out := e.mustTajo(t, "connectors", "sync", "braze", "--type", "full")
	if got := <-askedFor; got != "full" {
		t.Errorf("the extractor was asked for %q, want full", got)
	}
	if !strings.Contains(out, "Started full sync ") || summaryCount(t, out, "created") != 4 ||
		summaryCount(t, out, "updated") != 1 || summaryCount(t, out, "unchanged") != 2 {
		t.Errorf("want the deployment's run followed to its summary:\n%s", out)
	}
	if len(e.sb.Brevo.Requests()) != 0 {
		t.Errorf("syncing through a deployment must leave the work to it; Brevo saw %v", e.sb.Brevo.Requests())
	}
}
