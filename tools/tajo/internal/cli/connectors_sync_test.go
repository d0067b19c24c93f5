package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox"
)

// connectorsEnv is a tajo home configured for simulators the test started:
// the path of a real account (keys in the environment, URLs in a file).
type connectorsEnv struct {
	sb   *sandbox.Sandbox
	home string
	cfg  string
}

func newConnectorsEnv(t *testing.T, users int) *connectorsEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := sandbox.DefaultOptions()
	opts.Users = users
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Error(err)
		}
	})
	e := &connectorsEnv{sb: sb, home: t.TempDir(), cfg: filepath.Join(t.TempDir(), "tajo.yaml")}
	t.Setenv("TAJO_HOME", e.home)
	t.Setenv("TAJO_CONFIG", "")
	t.Setenv("NATS_URL", "")
	t.Setenv("BRAZE_API_KEY", sb.BrazeAPIKey)
	t.Setenv("BREVO_API_KEY", sb.BrevoAPIKey)
	cfg := fmt.Sprintf("connectors:\n  braze:\n    instance_url: %s\n  brevo:\n    api_url: %s\n    list_ids: [2]\n", sb.BrazeURL, sb.BrevoURL)
	if err := os.WriteFile(e.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// tajo runs one command and returns its stdout.
func (e *connectorsEnv) tajo(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut lockedBuffer
	root := NewRoot("test")
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append(args, "--config", e.cfg))
	err := root.ExecuteContext(ctx)
	if err != nil {
		t.Logf("tajo %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), err
}

func (e *connectorsEnv) mustTajo(t *testing.T, args ...string) string {
	t.Helper()
	out, err := e.tajo(t, args...)
	if err != nil {
		t.Fatalf("tajo %s: %v\nstdout:\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// brevoWrites counts the requests the Brevo simulator saw that were not reads.
func (e *connectorsEnv) brevoWrites() map[string]int {
	w := map[string]int{}
	for k, n := range e.sb.Brevo.Requests() {
		if !strings.HasPrefix(k, "GET ") {
			w[k] = n
		}
	}
	return w
}

// brazeWrites counts Braze requests other than reads and segment exports.
func (e *connectorsEnv) brazeWrites() map[string]int {
	w := map[string]int{}
	for k, n := range e.sb.Braze.Requests() {
		if !strings.HasPrefix(k, "GET ") && !strings.HasPrefix(k, "POST /users/export/segment") {
			w[k] = n
		}
	}
	return w
}

// brevoKeys is the record key of every contact in the Brevo simulator:
// its ext_id, else "email:" and its email (as pkg/mapping keys records).
func (e *connectorsEnv) brevoKeys() []string {
	var keys []string
	for _, c := range e.sb.Brevo.Contacts() {
		k := c.ExtID
		if k == "" {
			k = "email:" + c.Email
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// planned reads the keys a printed plan lists with mark ("+" or "~").
func planned(out, mark string) []string {
	var keys []string
	for _, m := range regexp.MustCompile(`(?m)^  `+regexp.QuoteMeta(mark)+` (\S+)`).FindAllStringSubmatch(out, -1) {
		keys = append(keys, m[1])
	}
	sort.Strings(keys)
	return keys
}

// planCount reads one total of a printed plan.
func planCount(t *testing.T, out, name string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  ` + name + `\s+(\d+)  `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q in the plan:\n%s", name, out)
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// TestDryRunPlansWhatTheRealRunDoes runs, on one state directory: a dry run
// (nothing written anywhere, every user planned as a create), the real full
// sync (it does exactly that), a dry run after some users changed in Braze
// (it plans their updates, with diffs read from Brevo, from the memory the
// real sync left in the local store), and the real incremental sync.
func TestDryRunPlansWhatTheRealRunDoes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline four times; skipped in -short mode")
	}
	const users = 150
	e := newConnectorsEnv(t, users)

	// 1. Dry run on a fresh home: no memory, everything is new.
	plan1 := e.mustTajo(t, "connectors", "sync", "braze", "--type", "full", "--dry-run", "--show", "100000")
	if w := e.brevoWrites(); len(w) != 0 {
		t.Fatalf("the dry run wrote to Brevo: %v", w)
	}
	if w := e.brazeWrites(); len(w) != 0 {
		t.Fatalf("the dry run wrote to Braze: %v", w)
	}
	if c := e.sb.Brevo.Contacts(); len(c) != 0 {
		t.Fatalf("the dry run left %d contacts in Brevo", len(c))
	}
	if !strings.Contains(plan1, "No memory of earlier syncs") || planCount(t, plan1, "update") != 0 {
		t.Errorf("first dry run: want no memory and no updates:\n%s", plan1)
	}
	if _, err := os.Stat(filepath.Join(e.home, "nats")); !os.IsNotExist(err) {
		t.Errorf("the dry run created the local store (%v): it must run on a temporary one", err)
	}
	creates := planned(plan1, "+")
	if len(creates) != planCount(t, plan1, "create") || len(creates) == 0 {
		t.Fatalf("listed %d creates, total says %d", len(creates), planCount(t, plan1, "create"))
	}

	// 2. The real full sync does what was planned.
	real1 := e.mustTajo(t, "connectors", "sync", "braze", "--type", "full")
	if got := summaryCount(t, real1, "created"); got != int64(len(creates)) {
		t.Errorf("real run created %d, the plan said %d", got, len(creates))
	}
	if got := summaryCount(t, real1, "dead-lettered"); got != int64(planCount(t, plan1, "skipped")) {
		t.Errorf("real run dead-lettered %d, the plan said %d skipped", got, planCount(t, plan1, "skipped"))
	}
	if got := e.brevoKeys(); strings.Join(got, ",") != strings.Join(creates, ",") {
		t.Errorf("Brevo holds %d contacts, the plan listed %d creates; they differ:\nbrevo %v\nplan  %v", len(got), len(creates), got, creates)
	}

	// 3. Some users change in Braze; a dry run starts from the real run's
	// memory (copied from the local store) and plans just their updates.
	e.sb.Braze.Mutate(1, 2, 3, 4, 5, 6, 7, 8)
	before := e.brevoWrites()
	contacts := e.sb.Brevo.Contacts()
	plan2 := e.mustTajo(t, "connectors", "sync", "braze", "--type", "incremental", "--dry-run", "--diff", "--show", "100000")
	if w := e.brevoWrites(); fmt.Sprint(w) != fmt.Sprint(before) {
		t.Fatalf("the dry run wrote to Brevo: before %v, after %v", before, w)
	}
	if after := e.sb.Brevo.Contacts(); fmt.Sprint(after) != fmt.Sprint(contacts) {
		t.Fatal("the dry run changed Brevo's contacts")
	}
	if !strings.Contains(plan2, "Started from the connector's memory at "+filepath.Join(e.home, "nats")) {
		t.Errorf("second dry run: want the memory copied from the local store:\n%s", plan2)
	}
	updates := planned(plan2, "~")
	if len(updates) == 0 || len(updates) > 8 || planCount(t, plan2, "create") != 0 {
		t.Fatalf("second dry run: want 1..8 updates and no creates:\n%s", plan2)
	}
	if !regexp.MustCompile(`(?m)^      [A-Z_]+ +.* -> `).MatchString(plan2) {
		t.Errorf("--diff: want attribute-level changes read from Brevo:\n%s", plan2)
	}

	// 4. The real incremental sync updates exactly those.
	real2 := e.mustTajo(t, "connectors", "sync", "braze", "--type", "incremental")
	if got := summaryCount(t, real2, "updated"); got != int64(len(updates)) {
		t.Errorf("real run updated %d, the plan said %d (%v)", got, len(updates), updates)
	}
	if got := summaryCount(t, real2, "created"); got != 0 {
		t.Errorf("real run created %d, the plan said 0", got)
	}
	if got := summaryCount(t, real2, "unchanged"); got != int64(planCount(t, plan2, "unchanged")) {
		t.Errorf("real run: %d unchanged, the plan said %d", got, planCount(t, plan2, "unchanged"))
	}

	// The status reads the same store.
	var st connectorStatus
	if err := json.Unmarshal([]byte(e.mustTajo(t, "connectors", "status", "braze", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if !st.Connected || st.LastSync == nil || st.LastSync.Type != "incremental" || st.UsersCount != users {
		t.Errorf("status after two syncs: %+v (last sync %+v)", st, st.LastSync)
	}
	// The users sync's consumers exist; the events side never ran here.
	for _, c := range st.Consumers {
		users := c.Consumer == "transformer-users" || c.Consumer == "loader-contacts"
		if c.Exists != users || c.Pending+c.AckPending != 0 {
			t.Errorf("consumer %+v: want it to exist (%v) with no backlog", c, users)
		}
	}
	if r := st.Resources["users"]; r == nil || r.ID != st.LastSync.ID || r.Updated != int64(len(updates)) {
		t.Errorf("users resource %+v, want the last sync with its counters", r)
	}
	// The in-process runs reported their circuit breakers: one per vendor
	// endpoint bucket, all closed after fault-free runs.
	vendors := map[string]bool{}
	for _, b := range st.Breakers {
		if b.State != "closed" {
			t.Errorf("breaker %s is %s after fault-free runs", b.Name, b.State)
		}
		vendors[strings.Fields(b.Name)[1][:5]] = true
	}
	if !vendors["braze"] || !vendors["brevo"] {
		t.Errorf("breakers reported: %+v, want Braze's and Brevo's", st.Breakers)
	}
}

func TestSyncRefusesWhatThisBuildCannotDo(t *testing.T) {
	t.Setenv("TAJO_HOME", t.TempDir())
	t.Setenv("BRAZE_API_KEY", "")
	t.Setenv("BREVO_API_KEY", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--resources", "users,campaigns"}, "campaigns: not supported yet (planned)"},
		{[]string{"--resources", "widgets"}, "unknown resource"},
		{[]string{"--since", "2024-01-01"}, "--since does not apply to users"},
		{[]string{"--since", "yesterday"}, "want a date such as 2024-01-01"},
		{[]string{"--type", "weekly"}, "use full or incremental"},
		{[]string{"--diff"}, "add --dry-run"},
		{nil, "BRAZE_API_KEY and BREVO_API_KEY are not set"},
		{[]string{"--dry-run"}, "tajo connectors install braze"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			root := NewRoot("test")
			var out lockedBuffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(append([]string{"connectors", "sync", "braze"}, c.args...))
			err := root.ExecuteContext(context.Background())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
