package loader

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/plan"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// The sink contract: every way the loader writes (an import, single
// upserts, the bisection of a refused import) leaves the Brevo simulator
// in the same state for the same rows, and that state is what the rows
// say: each contact holds its row's attributes (an empty value clears one),
// email, ext_id and SMS, is in every one of the sink's lists (list_ids),
// and keeps its blocklist flags (never sent). The dry run's plan is what
// the real sinks did. Each scenario writes its steps one after the other
// through the sink under test, on a fresh simulator.

// contractRow is one row of a step.
type contractRow struct {
	ext, email string
	attrs      map[string]any
	create     bool
}

type contractScenario struct {
	name string
	// before makes Brevo hold what the connector did not write.
	before func(t *testing.T, c *brevo.Client)
	steps  [][]contractRow
	// blocklisted are ext_ids whose emailBlacklisted must stay true.
	blocklisted []string
}

var contractScenarios = []contractScenario{
	{
		name: "new contacts",
		steps: [][]contractRow{{
			{ext: "u1", email: "ann@example.com", attrs: map[string]any{"FIRSTNAME": "Ann", "SCORE": 1.5, "VIP": true, "BIRTHDAY": "1990-02-03", "SMS": "+33612345678"}, create: true},
			{ext: "u2", email: "bob@example.com", attrs: map[string]any{"LASTNAME": "Bee"}, create: true},
			{ext: "u3", attrs: map[string]any{"FIRSTNAME": "Cy", "SMS": "+33622222222"}, create: true},
		}},
	},
	{
		name: "updated and cleared attributes",
		steps: [][]contractRow{
			{
				{ext: "u1", email: "ann@example.com", attrs: map[string]any{"FIRSTNAME": "Ann", "LASTNAME": "Lee", "SCORE": 2.0}, create: true},
				{ext: "u2", email: "bob@example.com", attrs: map[string]any{"FIRSTNAME": "Bob", "VIP": false}, create: true},
			},
			{
				// FIRSTNAME removed in Braze: the loader sends it empty.
				{ext: "u1", email: "ann@example.com", attrs: map[string]any{"FIRSTNAME": "", "LASTNAME": "Lee", "SCORE": 3.0}},
				// A new email for the same user.
				{ext: "u2", email: "bob.new@example.com", attrs: map[string]any{"FIRSTNAME": "Bob", "VIP": true}},
			},
		},
	},
	{
		name: "a contact another tool made joins the lists",
		before: func(t *testing.T, c *brevo.Client) {
			if _, err := c.UpsertContact(context.Background(), brevo.Contact{ExtID: "u1", Email: "ann@example.com",
				Attributes: map[string]any{"LASTNAME": "Kept"}}); err != nil {
				t.Fatal(err)
			}
		},
		steps: [][]contractRow{{
			{ext: "u1", email: "ann@example.com", attrs: map[string]any{"FIRSTNAME": "Ann"}},
			{ext: "u2", email: "bob@example.com", attrs: map[string]any{"FIRSTNAME": "Bob"}, create: true},
		}},
	},
	{
		name: "blocklisted contacts stay blocklisted",
		before: func(t *testing.T, c *brevo.Client) {
			yes := true
			if _, err := c.UpsertContact(context.Background(), brevo.Contact{ExtID: "u1", Email: "ann@example.com",
				EmailBlacklisted: &yes, SMSBlacklisted: &yes}); err != nil {
				t.Fatal(err)
			}
		},
		steps: [][]contractRow{{
			{ext: "u1", email: "ann@example.com", attrs: map[string]any{"FIRSTNAME": "Ann", "SMS": "+33633333333"}},
			{ext: "u2", email: "bob@example.com", attrs: map[string]any{"FIRSTNAME": "Bob"}, create: true},
		}},
		blocklisted: []string{"u1"},
	},
	{
		name: "identifiers the claims left off",
		steps: [][]contractRow{
			{{ext: "u1", email: "ann@example.com", attrs: map[string]any{"SMS": "+33644444444"}, create: true}},
			// Another user sharing Ann's email and phone is written without
			// both (claims.go decides; the row says so).
			{
				{ext: "u2", attrs: map[string]any{"FIRSTNAME": "Twin"}, create: true},
				{ext: "u3", email: "cy@example.com", attrs: map[string]any{"FIRSTNAME": "Cy"}, create: true},
			},
		},
	},
}

// refuseMultiRowImports is a fake edge in front of the simulator that
// refuses, as a whole, every import of more than one row (as Brevo refuses
// a body it cannot validate): the import sink must bisect every step.
func refuseMultiRowImports(sim http.Handler, refused *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v3/contacts/import" {
			body, _ := io.ReadAll(r.Body)
			if strings.Count(string(body), `"attributes":`) > 1 {
				refused.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"code":"invalid_parameter","message":"refused by the test's edge"}`)
				return
			}
			r.Body = io.NopCloser(strings.NewReader(string(body)))
		}
		sim.ServeHTTP(w, r)
	})
}

// contractSink builds one kind of sink on a fresh simulator; the sinks are
// the loader's own (newSinks).
type contractSink struct {
	name string
	edge func(http.Handler, *atomic.Int32) http.Handler // nil: none
	pick func(sinks) Sink
	// imports and upserts say which writes Brevo must have seen, refused
	// that imports must have been refused (and rows then written alone).
	imports, upserts, refused bool
}

var contractSinks = []contractSink{
	{name: "import", pick: func(s sinks) Sink { return s.imports }, imports: true},
	{name: "single upserts", pick: func(s sinks) Sink { return s.upserts }, upserts: true},
	// Every import of several rows refused: halves imported (one row
	// each), and below the threshold (3) rows written one by one.
	{name: "bisection of a refused import", edge: refuseMultiRowImports, pick: func(s sinks) Sink { return s.imports },
		imports: true, upserts: true, refused: true},
}

// paths counts the contact writes Brevo saw, by kind.
func paths(sim *brevosim.Server) (imports, upserts int) {
	for k, n := range sim.Requests() {
		switch {
		case strings.HasPrefix(k, "POST /v3/contacts/import 2"):
			imports += n
		case strings.HasPrefix(k, "POST /v3/contacts 2"):
			upserts += n
		}
	}
	return imports, upserts
}

// contractEnv is one scenario's simulator and sinks.
type contractEnv struct {
	sim     *brevosim.Server
	refused atomic.Int32 // imports the edge refused
	client  *brevo.Client
	lists   []int64
	sinks   sinks
	plan    *plan.Plan
}

func newContractEnv(t *testing.T, st *state.Store, edge func(http.Handler, *atomic.Int32) http.Handler) *contractEnv {
	t.Helper()
	ctx := context.Background()
	e := &contractEnv{sim: brevosim.New(brevosim.Config{APIKey: "k", ImportDelay: time.Millisecond}), plan: plan.New()}
	var h http.Handler = e.sim
	if edge != nil {
		h = edge(h, &e.refused)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(e.sim.Close)
	var err error
	if e.client, err = brevo.New(brevo.Config{BaseURL: srv.URL + "/v3", APIKey: "k"}); err != nil {
		t.Fatal(err)
	}
	for name, typ := range map[string]string{"SCORE": "float", "VIP": "boolean", "BIRTHDAY": "date"} {
		if err := e.client.CreateAttribute(ctx, "normal", name, typ); err != nil {
			t.Fatal(err)
		}
	}
	list, err := e.client.EnsureList(ctx, DefaultListName)
	if err != nil {
		t.Fatal(err)
	}
	e.lists = []int64{2, list.ID} // Brevo's first list and the connector's
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := Config{ListIDs: e.lists, Planner: e.plan, Instance: "contract", ImportThreshold: 3}
	cfg.defaults()
	track := &tracker{procs: e.client, clock: cfg.Clock, perHour: 1 << 30, firstPoll: 5 * time.Millisecond, log: log}
	e.sinks = newSinks(e.client, st, track, cfg, log)
	return e
}

// write sends step through sink and fails on any row not written.
func (e *contractEnv) write(t *testing.T, sink Sink, step []contractRow) {
	t.Helper()
	rows := &Rows{}
	for _, r := range step {
		if err := rows.Add(brevo.ImportContact{ExtID: r.ext, Email: r.email, Attributes: r.attrs},
			RowMeta{Key: r.ext, Create: r.create, Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	var imports []int64
	for i, res := range sink.Write(context.Background(), rows) {
		if res.Err != nil || res.WithoutSMS || res.Earlier {
			t.Fatalf("row %s: %+v", step[i].ext, res)
		}
		if res.Import != 0 {
			imports = append(imports, res.Import)
		}
	}
	// Written, as the loader does once it has recorded the writes.
	if err := e.sinks.imports.records.forget(context.Background(), imports); err != nil {
		t.Fatal(err)
	}
}

// snapshot is Brevo's state as the contract sees it: every contact by
// ext_id, without ids and times.
func (e *contractEnv) snapshot() map[string]brevosim.Contact {
	out := map[string]brevosim.Contact{}
	for _, c := range e.sim.Contacts() {
		c.ID, c.CreatedAt, c.ModifiedAt = 0, time.Time{}, time.Time{}
		slices.Sort(c.ListIDs)
		out[c.ExtID] = c
	}
	return out
}

func TestSinkContract(t *testing.T) {
	_, _, js := natsxtest.Start(t)
	st, err := state.NewStore(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range contractScenarios {
		t.Run(sc.name, func(t *testing.T) {
			var reference map[string]brevosim.Contact
			var referenceName string
			for _, ks := range contractSinks {
				e := newContractEnv(t, st, ks.edge)
				if sc.before != nil {
					sc.before(t, e.client)
				}
				imports0, upserts0 := paths(e.sim)
				for _, step := range sc.steps {
					e.write(t, ks.pick(e.sinks), step)
				}
				got := e.snapshot()
				imports, upserts := paths(e.sim)
				imports, upserts = imports-imports0, upserts-upserts0
				// Every scenario has a step of several rows: the path under
				// test is taken.
				if ks.refused && (e.refused.Load() == 0 || upserts == 0) ||
					!ks.refused && ((imports > 0) != ks.imports || (upserts > 0) != ks.upserts) {
					t.Errorf("%s: Brevo saw %d imports, %d single upserts, %d imports refused: not the path under test",
						ks.name, imports, upserts, e.refused.Load())
				}
				checkRows(t, ks.name, sc, e.lists, got)
				if reference == nil {
					reference, referenceName = got, ks.name
					continue
				}
				if !reflect.DeepEqual(got, reference) {
					t.Errorf("%s left Brevo holding\n%v\n%s left\n%v", ks.name, got, referenceName, reference)
				}
			}

			// The dry run plans, on a simulator it must not write to, what
			// the real sinks did.
			e := newContractEnv(t, st, nil)
			if sc.before != nil {
				sc.before(t, e.client)
			}
			before := e.snapshot()
			for _, step := range sc.steps {
				e.write(t, e.sinks.plan, step)
			}
			if got := e.snapshot(); !reflect.DeepEqual(got, before) {
				t.Fatalf("the dry run wrote to Brevo: %v", got)
			}
			checkPlan(t, sc, e.plan, reference)
		})
	}
}

// checkRows checks what the rows say against Brevo's state: the last row
// of each contact, with lists and blocklist flags.
func checkRows(t *testing.T, sink string, sc contractScenario, lists []int64, got map[string]brevosim.Contact) {
	t.Helper()
	last := map[string]contractRow{}
	for _, step := range sc.steps {
		for _, r := range step {
			last[r.ext] = r
		}
	}
	for ext, r := range last {
		c, ok := got[ext]
		if !ok {
			t.Errorf("%s: contact %s missing", sink, ext)
			continue
		}
		if c.Email != r.email {
			t.Errorf("%s: %s has email %q, want %q", sink, ext, c.Email, r.email)
		}
		if sms, _ := r.attrs["SMS"].(string); c.SMS != sms {
			t.Errorf("%s: %s has SMS %q, want %q", sink, ext, c.SMS, sms)
		}
		for k, v := range r.attrs {
			if k == "SMS" {
				continue
			}
			have, ok := c.Attributes[k]
			switch {
			case v == "" && ok:
				t.Errorf("%s: %s still holds %s=%v, want it cleared", sink, ext, k, have)
			case v != "" && !reflect.DeepEqual(have, v):
				t.Errorf("%s: %s holds %s=%v (%T), want %v", sink, ext, k, have, have, v)
			}
		}
		for _, l := range lists {
			if !slices.Contains(c.ListIDs, l) {
				t.Errorf("%s: %s is in lists %v, want every one of %v", sink, ext, c.ListIDs, lists)
			}
		}
		if c.EmailBlacklistedSent && !slices.Contains(sc.blocklisted, ext) || c.SMSBlacklistedSent && !slices.Contains(sc.blocklisted, ext) {
			t.Errorf("%s: a blocklist flag was sent for %s", sink, ext)
		}
	}
	for _, ext := range sc.blocklisted {
		if c := got[ext]; !c.EmailBlacklisted || !c.SMSBlacklisted {
			t.Errorf("%s: %s lost its blocklist flags: email %v, SMS %v", sink, ext, c.EmailBlacklisted, c.SMSBlacklisted)
		}
	}
	if t.Failed() {
		t.Logf("%s: Brevo holds %v", sink, got)
	}
}

// checkPlan checks that the plan holds what the real sinks wrote: for each
// contact its last write's email, attributes (empty: cleared) and lists,
// counted as the loader decided.
func checkPlan(t *testing.T, sc contractScenario, p *plan.Plan, wrote map[string]brevosim.Contact) {
	t.Helper()
	creates := map[string]bool{}
	for _, step := range sc.steps {
		for _, r := range step {
			creates[r.ext] = creates[r.ext] || r.create
		}
	}
	planned := p.Contacts()
	if len(planned) != len(creates) {
		t.Errorf("the plan holds %d contacts, want %d", len(planned), len(creates))
	}
	for _, pc := range planned {
		c, ok := wrote[pc.ExtID]
		if !ok {
			t.Errorf("the plan writes %s, which the real sinks did not", pc.ExtID)
			continue
		}
		if pc.Email != c.Email {
			t.Errorf("plan: %s with email %q, the sinks wrote %q", pc.ExtID, pc.Email, c.Email)
		}
		attrs := maps.Clone(pc.Attributes)
		if sms, _ := attrs["SMS"].(string); sms != c.SMS {
			t.Errorf("plan: %s with SMS %q, the sinks wrote %q", pc.ExtID, sms, c.SMS)
		}
		delete(attrs, "SMS")
		for k, v := range attrs {
			have, ok := c.Attributes[k]
			if v == "" && ok || v != "" && !reflect.DeepEqual(have, v) {
				t.Errorf("plan: %s %s=%v, the sinks left %v", pc.ExtID, k, v, have)
			}
		}
		for _, l := range pc.ListIDs {
			if !slices.Contains(c.ListIDs, l) {
				t.Errorf("plan: %s joins list %d, the sinks left it in %v", pc.ExtID, l, c.ListIDs)
			}
		}
		if len(pc.ListIDs) == 0 {
			t.Errorf("plan: %s joins no list", pc.ExtID)
		}
		// The last write counts as the loader decided it.
		wantOp := proto.OpUpdate
		if lastCreate(sc, pc.ExtID) {
			wantOp = proto.OpCreate
		}
		if pc.Op != wantOp {
			t.Errorf("plan: %s counted %s, want %s", pc.ExtID, pc.Op, wantOp)
		}
	}
}

func lastCreate(sc contractScenario, ext string) bool {
	create := false
	for _, step := range sc.steps {
		for _, r := range step {
			if r.ext == ext {
				create = r.create
			}
		}
	}
	return create
}
