package cli

import (
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// summaryCount reads one counter of the summary table printed by tajo run.
func summaryCount(t *testing.T, out, name string) int64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + `\s+([\d,]+)  `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q in the summary:\n%s", name, out)
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRun drives `tajo run` the way a user does, twice on one state
// directory: once with --once and no API keys (so it must pick the sandbox
// by itself), then as a long-running process stopped by cancelling its
// context, as Ctrl-C does. Each run starts fresh simulators, so the
// connector's memory of what it sent them starts fresh too: the second full
// sync creates every contact again instead of finding them unchanged.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline twice; skipped in -short mode")
	}
	home := t.TempDir()
	t.Setenv("TAJO_HOME", home)
	t.Setenv("BRAZE_API_KEY", "")
	t.Setenv("BREVO_API_KEY", "")
	const users = 300

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut lockedBuffer
	root := NewRoot("test")
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"run", "--once", "--nats-port", "0", "--sandbox-users", strconv.Itoa(users)})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("tajo run --once: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	first := out.String()
	for _, want := range []string{
		"using the built-in Braze and Brevo simulators",
		"full sync ", "Where to look",
		"  state           " + home + "\n",
		"  NATS store      " + filepath.Join(home, "sandbox", "nats") + "\n",
		"  NATS URL        nats://127.0.0.1:",
		"  Braze sandbox   http://127.0.0.1:",
		"  Brevo sandbox   http://127.0.0.1:",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("stdout lacks %q:\n%s", want, first)
		}
	}
	if got := summaryCount(t, first, "exported"); got != users {
		t.Errorf("exported %d, want %d", got, users)
	}
	created, updated := summaryCount(t, first, "created"), summaryCount(t, first, "updated")
	if created == 0 || summaryCount(t, first, "failed") != 0 {
		t.Errorf("first run: want contacts created and none failed:\n%s", first)
	}
	// stderr is not a terminal here: plain progress lines, ending with the
	// final frame at 100%.
	progressLog := errOut.String()
	if strings.Contains(progressLog, "\r") || !strings.Contains(progressLog, "] 100% exported") {
		t.Errorf("progress output on a non-terminal:\n%q", progressLog)
	}

	// Second run: long-running, stopped like Ctrl-C.
	var out2, errOut2 lockedBuffer
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	root = NewRoot("test")
	root.SetOut(&out2)
	root.SetErr(&errOut2)
	root.SetArgs([]string{"run", "--sandbox", "--nats-port", "0", "--sandbox-users", strconv.Itoa(users)})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(runCtx) }()
	waitFor(t, &out2, "Next: an incremental sync every 1m0s, a full re-export every 24h0m0s.", time.Minute)
	second := out2.String()
	if strings.Contains(second, "is not set") {
		t.Error("with --sandbox given, tajo run must not explain why it picked the sandbox")
	}
	if c, u := summaryCount(t, second, "created"), summaryCount(t, second, "unchanged"); c != created+updated || u != 0 {
		t.Errorf("second full sync on fresh simulators: created %d, unchanged %d; want %d and 0", c, u, created+updated)
	}
	// The status page's address and this run's sandbox API key: the status
	// answers it (and nothing else without a key).
	m := regexp.MustCompile(`Status page: (http://\S+)/ \(sign in with the sandbox API key of this run: (tajo_sandbox_[0-9a-f]+)\)`).FindStringSubmatch(second)
	if m == nil {
		t.Fatalf("no status page line with a sandbox key:\n%s", second)
	}
	for _, c := range []struct {
		auth string
		want int
	}{{"Bearer " + m[2], http.StatusOK}, {"", http.StatusUnauthorized}, {"Bearer tajo_sandbox_" + strings.Repeat("0", 48), http.StatusUnauthorized}} {
		req, _ := http.NewRequestWithContext(ctx, "GET", m[1]+"/v1/connectors/braze/status", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET /status with %q: %d, want %d", c.auth, resp.StatusCode, c.want)
		}
	}
	stop()
	if err := awaitStopped(t, done); err != nil {
		t.Fatalf("tajo run after Ctrl-C: %v\nstderr:\n%s", err, errOut2.String())
	}
	if !strings.HasSuffix(out2.String(), "Stopped.\n") {
		t.Errorf("want a last line saying it stopped:\n%s", out2.String())
	}
}
