package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox"
)

// TestRunAgainstConfiguredVendors takes the path of a real account: both
// keys in the environment, URLs from a config file, no --sandbox. The
// "vendors" are simulators the test starts itself, so tajo run must find
// them only through the file and the environment.
func TestRunAgainstConfiguredVendors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := sandbox.DefaultOptions()
	opts.Users = 120
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Error(err)
		}
	})

	home := t.TempDir()
	t.Setenv("TAJO_HOME", home)
	t.Setenv("TAJO_CONFIG", "")
	t.Setenv("BRAZE_API_KEY", sb.BrazeAPIKey)
	t.Setenv("BREVO_API_KEY", sb.BrevoAPIKey)
	cfgPath := filepath.Join(t.TempDir(), "tajo.yaml")
	cfg := fmt.Sprintf("connectors:\n  braze:\n    instance_url: %s\n  brevo:\n    api_url: %s\n    list_ids: [2]\n", sb.BrazeURL, sb.BrevoURL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	var out, errOut lockedBuffer
	root := NewRoot("test")
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"run", "--once", "--nats-port", "0", "--config", cfgPath})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("tajo run --once: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	text := out.String()
	if strings.Contains(text, "simulators") || strings.Contains(text, "sandbox ") {
		t.Errorf("with both keys set, tajo run must not start or mention its own sandbox:\n%s", text)
	}
	if got := summaryCount(t, text, "exported"); got != int64(opts.Users) {
		t.Errorf("exported %d, want %d", got, opts.Users)
	}
	if summaryCount(t, text, "created") == 0 || summaryCount(t, text, "failed") != 0 {
		t.Errorf("want contacts created in the configured Brevo and none failed:\n%s", text)
	}
}
