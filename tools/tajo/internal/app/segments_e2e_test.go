package app_test

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/tools/sandbox"
	brazesim "github.com/tajo-sync/tajo/tools/sandbox/braze"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// segEnv is a sandbox, a NATS server and every stage with segment
// mirroring on, for one segment and one list.
type segEnv struct {
	*env
	segID  string
	listID int64
}

// largestSegment is the live segment with the most members, All Users aside.
func largestSegment(t *testing.T, sim *brazesim.Server) string {
	t.Helper()
	best, most := "", 0
	for _, s := range sim.SegmentList() {
		if s.Archived || s.ID == brazesim.AllUsersSegmentID {
			continue
		}
		m, err := sim.Members(s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(m) > most {
			best, most = s.ID, len(m)
		}
	}
	return best
}

// startSegments starts the sandbox and the pipeline with the largest
// segment mirrored into a new list named byName (its name instead of its
// id in lists when true).
func startSegments(t *testing.T, users int, byName bool, sbo sandbox.Options) *segEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sbo.Users, sbo.Seed, sbo.RateLimits = users, 42, true
	if sbo.ExportDelay == 0 {
		sbo.ExportDelay = time.Second // long enough for an export to be running when the mirror asks
	}
	sb := startSandbox(t, ctx, sbo)
	bv, err := brevo.New(brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	listID, err := bv.CreateList(ctx, "Mirrored segment", 1)
	if err != nil {
		t.Fatal(err)
	}
	segID := largestSegment(t, sb.Braze)
	key := segID
	if byName {
		for _, s := range sb.Braze.SegmentList() {
			if s.ID == segID {
				key = s.Name
			}
		}
	}
	nc, _ := natsxtest.Conn(t, natsxtest.Server(t))
	o := baseOptions(t, sb, nc, testLogger(t, slog.LevelInfo))
	o.Extractor.Poll = braze.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}
	o.Segments = &app.SegmentsOptions{
		Mirror: extractor.MirrorConfig{Lists: map[string]int64{key: listID}, SettlePoll: 100 * time.Millisecond},
		Loader: loader.ListsConfig{BatchWait: 100 * time.Millisecond},
	}
	a, err := app.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	runWorkers(t, a)
	return &segEnv{env: &env{sb: sb, app: a, js: a.JS}, segID: segID, listID: listID}
}

// ident is how a Braze user's contact is named in list calls, from the
// product's rules: its external_id, else its email (trimmed, lower case)
// when valid; "" for a user no list call can name.
func ident(e *env, i int) (kind, id string) {
	if ext, ok := e.sb.Gen.ExternalID(i); ok {
		return "extIds", ext
	}
	email, ok := e.sb.Gen.Email(i)
	email = strings.ToLower(strings.TrimSpace(email))
	if ok && validEmail.MatchString(email) {
		return "emails", email
	}
	return "", ""
}

// contactOf is the Brevo contact a list call naming user i reaches.
func contactOf(e *env, i int) (brevosim.Contact, bool) {
	switch kind, id := ident(e, i); kind {
	case "extIds":
		return e.sb.Brevo.ContactByExtID(id)
	case "emails":
		return e.sb.Brevo.ContactByEmail(id)
	}
	return brevosim.Contact{}, false
}

// wantList is the contacts the list must hold: those the segment's members
// name.
func (e *segEnv) wantList(t *testing.T) []int64 {
	t.Helper()
	members, err := e.sb.Braze.Members(e.segID)
	if err != nil {
		t.Fatal(err)
	}
	set := map[int64]bool{}
	for _, i := range members {
		if c, ok := contactOf(e.env, i); ok {
			set[c.ID] = true
		}
	}
	return sortedKeys(set)
}

// list is the contacts the list holds.
func (e *segEnv) list() []int64 {
	set := map[int64]bool{}
	for _, c := range e.sb.Brevo.Contacts() {
		if slices.Contains(c.ListIDs, e.listID) {
			set[c.ID] = true
		}
	}
	return sortedKeys(set)
}

func sortedKeys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func syncSegments(t *testing.T, a *app.App) app.SegmentsSummary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := a.SyncSegments(ctx)
	if err != nil {
		t.Fatalf("segments run: %v", err)
	}
	t.Logf("segments run: %+v", s)
	return s
}

// named is what the list calls after the first n named, by op and kind,
// with every call's size checked.
func named(t *testing.T, calls []brevosim.ListCall, listID int64) (ops map[string][]string, counts map[string]int) {
	t.Helper()
	ops, counts = map[string][]string{}, map[string]int{}
	for _, c := range calls {
		if c.Count > 150 || c.Count < 1 {
			t.Errorf("a list call named %d contacts (1 to 150 allowed): %+v", c.Count, c)
		}
		if c.ListID != listID || c.Status != 201 {
			t.Errorf("list call %+v: want list %d, status 201", c, listID)
		}
		ops[c.Op+" "+c.Kind] = append(ops[c.Op+" "+c.Kind], c.Success...)
		counts[c.Op+" "+c.Kind]++
		if len(c.Failure) > 0 {
			t.Errorf("list call with failures %v", c.Failure)
		}
	}
	return ops, counts
}

func TestSegmentMirrorEndToEnd(t *testing.T) {
	const users = 3000
	e := startSegments(t, users, true, sandbox.Options{})
	if s := syncNow(t, e.env, "full"); !s.OK() {
		t.Fatalf("users sync: %+v", s)
	}

	first := syncSegments(t, e.app)
	want := e.wantList(t)
	if got := e.list(); !slices.Equal(got, want) || len(want) < 500 {
		t.Fatalf("after the first run the list holds %d contacts, want the segment's %d", len(got), len(want))
	}
	// Every member a list call can name is one change; members naming one
	// contact (a shared email) add it once, the others find it there.
	members, _ := e.sb.Braze.Members(e.segID)
	nameable := 0
	for _, i := range members {
		if kind, _ := ident(e.env, i); kind != "" {
			nameable++
		}
	}
	if first.Status != "completed" || first.Changes != int64(nameable) || first.Added != int64(len(want)) ||
		first.Added+first.Unchanged != first.Changes || first.Removed != 0 || !first.OK() {
		t.Fatalf("first run: %+v; want %d changes, %d added", first, nameable, len(want))
	}
	if ms := first.Segments; len(ms) != 1 || ms[0].Members != int64(nameable) || ms[0].ListID != e.listID ||
		ms[0].Unresolved != int64(len(members)-nameable) {
		t.Fatalf("mirror state %+v; want %d members, %d unresolved", ms, nameable, len(members)-nameable)
	}

	// The segment shrinks by 300 and gains 200.
	left, joined, err := e.sb.Braze.MoveMembers(e.segID, 300, 200, 7)
	if err != nil {
		t.Fatal(err)
	}
	// An export of the segment is running (someone else's): the mirror's
	// request gets Braze's 429 and waits it out.
	bz, err := braze.New(braze.Config{BaseURL: e.sb.BrazeURL, APIKey: e.sb.BrazeAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bz.ExportSegment(context.Background(), braze.ExportSegmentRequest{SegmentID: e.segID, FieldsToExport: []string{"email"}}); err != nil {
		t.Fatal(err)
	}
	before := len(e.sb.Brevo.ListCalls())
	second := syncSegments(t, e.app)
	if n := e.sb.Braze.Requests()["POST /users/export/segment 429"]; n == 0 {
		t.Error("the mirror's export was not refused while another ran: the 429 path is not exercised")
	}

	wantRemoved, wantAdded := map[string][]string{}, map[string][]string{}
	for _, i := range left {
		if kind, id := ident(e.env, i); kind != "" {
			wantRemoved["remove "+kind] = append(wantRemoved["remove "+kind], id)
		}
	}
	for _, i := range joined {
		if kind, id := ident(e.env, i); kind != "" {
			wantAdded["add "+kind] = append(wantAdded["add "+kind], id)
		}
	}
	ops, counts := named(t, e.sb.Brevo.ListCalls()[before:], e.listID)
	for op, ids := range mergeMaps(wantRemoved, wantAdded) {
		got := ops[op]
		sort.Strings(got)
		sort.Strings(ids)
		if !slices.Equal(got, ids) {
			t.Errorf("%s: the calls named %d contacts, want exactly the %d %s", op, len(got), len(ids),
				map[bool]string{true: "departed", false: "new"}[strings.HasPrefix(op, "remove")])
		}
		// Batched, not a call per contact. How the batches fall depends on
		// timing (a handful of contacts may arrive in three loader batches),
		// so the bound applies where there are enough contacts to batch; at
		// most 150 a call is checked call by call above.
		if most := len(ids)/50 + 2; len(ids) >= 50 && counts[op] > most {
			t.Errorf("%s: %d calls for %d contacts, want at most %d", op, counts[op], len(ids), most)
		}
		t.Logf("%s: %d contacts in %d calls", op, len(ids), counts[op])
	}
	for op := range ops {
		if _, ok := mergeMaps(wantRemoved, wantAdded)[op]; !ok {
			t.Errorf("unexpected calls %s: %v", op, ops[op])
		}
	}
	nRemoved, nAdded := count(wantRemoved), count(wantAdded)
	if nRemoved < 280 || nAdded < 180 {
		t.Fatalf("only %d departed and %d new members can be named: the test would prove little", nRemoved, nAdded)
	}
	if second.Added != int64(nAdded) || second.Removed != int64(nRemoved) || second.Unchanged != 0 || !second.OK() {
		t.Errorf("second run: %+v; want %d added, %d removed", second, nAdded, nRemoved)
	}
	if got, want := e.list(), e.wantList(t); !slices.Equal(got, want) {
		t.Errorf("after the second run the list holds %d contacts, want the segment's %d", len(got), len(want))
	}

	// The status (tajo connectors status, GET .../status) shows the run
	// and the segment.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := app.ReadStatus(ctx, e.js, app.Connection{})
	if err != nil {
		t.Fatal(err)
	}
	if r := st.Resources["segments"]; r == nil || r.ID != second.RunID || !r.Done || r.Created != int64(nAdded) ||
		r.Updated != int64(nRemoved) || r.Exported != second.Changes {
		t.Errorf("status's segments run: %+v", r)
	}
	if len(st.Segments) != 1 || st.Segments[0].SegmentID != e.segID || st.Segments[0].Joined != second.Segments[0].Added ||
		st.Segments[0].Left != second.Segments[0].Removed || st.Segments[0].LastRun != second.RunID {
		t.Errorf("status's segments: %+v", st.Segments)
	}
	lagged := map[string]bool{}
	for _, c := range st.Consumers {
		lagged[c.Consumer] = c.Exists && c.Pending == 0 && c.AckPending == 0
	}
	if !lagged["transformer-segments"] || !lagged["loader-lists"] {
		t.Errorf("status's consumers: %+v", st.Consumers)
	}

	// Nothing changed: a third run calls Brevo for nothing.
	before = len(e.sb.Brevo.ListCalls())
	if third := syncSegments(t, e.app); third.Changes != 0 || !third.OK() {
		t.Errorf("third run: %+v; want no change", third)
	}
	if n := len(e.sb.Brevo.ListCalls()) - before; n != 0 {
		t.Errorf("%d list calls without any change", n)
	}
}

func mergeMaps(a, b map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func count(m map[string][]string) int {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	return n
}
