package cli

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer lets the test read what the command writes from another
// goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls until out contains s or the deadline passes.
func waitFor(t *testing.T, out *lockedBuffer, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q after %s; output so far:\n%s", s, d, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The parts of the output that change from run to run: ports and the
// generated keys.
var (
	portRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	keyRE  = regexp.MustCompile(`(sandbox-braze-|xkeysib-sandbox-)[0-9a-f]+`)
)

// TestSandboxCommand runs `tajo sandbox` on free ports, checks the shape of
// what it prints against a golden file (ports masked), then uses the printed
// URLs and keys to call both simulators: what the command tells a user must
// work.
func TestSandboxCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out lockedBuffer
	root := NewRoot("test")
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"sandbox", "--braze-addr", "127.0.0.1:0", "--brevo-addr", "127.0.0.1:0", "--users", "25", "--seed", "3"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	waitFor(t, &out, "Serving until Ctrl-C.", 30*time.Second)
	text := out.String()
	masked := keyRE.ReplaceAllString(portRE.ReplaceAllString(text, "127.0.0.1:PORT"), "${1}KEY")
	golden(t, "sandbox_command.golden", []byte(masked))

	// Each curl line names a URL and a header; replay it.
	for url, status := range replayCurls(ctx, t, text) {
		if status != http.StatusOK {
			t.Errorf("GET %s with the printed key: status %d, want 200", url, status)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sandbox command after Ctrl-C: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox command did not stop after its context was cancelled")
	}
}

// replayCurls sends the two curl lines `tajo sandbox` prints, with their
// header, and returns each URL's status.
func replayCurls(ctx context.Context, t *testing.T, text string) map[string]int {
	t.Helper()
	curls := regexp.MustCompile(`curl -s -H '([^:]+): ([^']+)' '([^']+)'`).FindAllStringSubmatch(text, -1)
	if len(curls) != 2 {
		t.Fatalf("want 2 curl lines, got %d:\n%s", len(curls), text)
	}
	out := map[string]int{}
	for _, c := range curls {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c[3], nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(c[1], c[2])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c[3], err)
		}
		resp.Body.Close()
		out[c[3]] = resp.StatusCode
	}
	return out
}
