package sdktest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/apikeys"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/tools/tajo/internal/cli"
)

// lockedBuffer is the output of tajo run, read while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

var (
	brevoRow = regexp.MustCompile(`Brevo sandbox\s+(http://\S+)\s+key (\S+)`)
	brazeRow = regexp.MustCompile(`Braze sandbox\s+(http://\S+)\s+key (\S+)`)
)

func TestSDKExamplesAgainstTajoRun(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("Node is absent (no node on PATH): the @tajo/sdk test is skipped; .ci/run installs nodejs and npm")
	}
	if testing.Short() {
		t.Skip("runs tajo run and Node: skipped with -short")
	}
	sdk, err := filepath.Abs(filepath.Join("..", "..", "..", "sdk-js"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("node is installed but npm is not: cannot build @tajo/sdk (%v)", err)
	}
	npmRun := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, npm, args...)
		cmd.Dir = sdk
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(sdk, "node_modules", "typescript", "package.json")); err != nil {
		npmRun("ci", "--no-audit", "--no-fund")
	}
	npmRun("run", "build")

	home := t.TempDir()
	t.Setenv("TAJO_HOME", home)
	t.Setenv("BRAZE_API_KEY", "")
	t.Setenv("BREVO_API_KEY", "")
	cfg := filepath.Join(home, "config.yaml")
	if err := os.WriteFile(cfg, []byte("connectors:\n  braze:\n    instance_url: https://rest.iad-01.braze.com\ngateway:\n  listen: 127.0.0.1:0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := apikeys.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := keys.Create("sdk-test")
	if err != nil {
		t.Fatal(err)
	}

	runCtx, stop := context.WithCancel(ctx)
	out := &lockedBuffer{}
	root := cli.NewRoot("test")
	root.SetArgs([]string{"run", "--sandbox", "--sandbox-users", "300", "--nats-port", "0", "--config", cfg})
	root.SetOut(out)
	root.SetErr(out)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("tajo run: %v", err)
		}
	})
	// Ready once the first full sync is summarised and the gateway listens.
	var addr []byte
	for !strings.Contains(out.String(), "Next:") || addr == nil {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("tajo run stopped: %v\n%s", err, out.String())
		case <-ctx.Done():
			t.Fatalf("tajo run not ready:\n%s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
		addr, _ = os.ReadFile(filepath.Join(home, "gateway.addr"))
	}
	m := brevoRow.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no Brevo sandbox row in:\n%s", out.String())
	}
	brevoURL, brevoKey := m[1], m[2]
	bv, err := brevo.New(brevo.Config{BaseURL: brevoURL, APIKey: brevoKey})
	if err != nil {
		t.Fatal(err)
	}
	// The page's handleEvent names user_12345: a contact the sandbox's
	// Brevo must hold for the event to land.
	if _, err := bv.UpsertContact(ctx, brevo.Contact{ExtID: "user_12345", Email: "user12345@example.com"}); err != nil {
		t.Fatal(err)
	}

	// exportSegment's example: a sandbox segment into a new list.
	list, err := bv.CreateList(ctx, "Exported segment", 1)
	if err != nil {
		t.Fatal(err)
	}
	bz := brazeRow.FindStringSubmatch(out.String())
	if bz == nil {
		t.Fatalf("no Braze sandbox row in:\n%s", out.String())
	}
	bc, err := braze.New(braze.Config{BaseURL: bz[1], APIKey: bz[2]})
	if err != nil {
		t.Fatal(err)
	}
	seg, err := bc.FindSegment(ctx, "High LTV")
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.CommandContext(ctx, node, "test/examples.mjs")
	cmd.Dir = sdk
	cmd.Env = append(os.Environ(), "TAJO_BASE_URL=http://"+strings.TrimSpace(string(addr)), "TAJO_API_KEY="+key, "BREVO_API_KEY="+brevoKey,
		"SEGMENT_ID="+seg.ID, "TARGET_LIST="+strconv.FormatInt(list, 10))
	res, err := cmd.CombinedOutput()
	t.Logf("node test/examples.mjs:\n%s", res)
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(res)), "PASS") {
		t.Fatalf("the SDK examples failed: %v", err)
	}

	// The exportSegment example's count is the list's members.
	exported := regexp.MustCompile(`ok exportSegment (\d+)`).FindSubmatch(res)
	lists, err := bv.Lists(ctx)
	if err != nil || exported == nil {
		t.Fatalf("lists %v, output %s", err, res)
	}
	for _, l := range lists {
		if l.ID == list && strconv.FormatInt(l.UniqueSubscribers, 10) != string(exported[1]) {
			t.Errorf("list %d holds %d contacts; exportSegment said %s", list, l.UniqueSubscribers, exported[1])
		}
	}

	// The handleEvent example is on user_12345's timeline.
	c, err := bv.Contact(ctx, "user_12345", brevo.IdentifierExtID)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(strings.TrimSuffix(brevoURL, "/v3") + "/_admin/contacts/" + jsonInt(c.ID) + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tl struct {
		Events []struct {
			Name string `json:"event_name"`
		} `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tl); err != nil {
		t.Fatal(err)
	}
	if len(tl.Events) != 1 || tl.Events[0].Name != "product_viewed" {
		t.Fatalf("user_12345's timeline: %+v", tl.Events)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
