package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tajo-sync/tajo/pkg/config"
)

// TestOneURLRule (issue 9, item 11): install, config validate and
// connectors test judge an instance URL alike, and an error about a value
// from ${VAR} names the variable, never the value.
func TestOneURLRule(t *testing.T) {
	sb := startCheckSandbox(t)
	home := isolate(t)
	upper := strings.Replace(sb.BrazeURL, "127.0.0.1", "LOCALHOST", 1)

	// install with an upper-case LOCALHOST writes a config that validates
	// and that connectors test uses.
	out, errOut, err := tajo(t, "connectors", "install", "braze", "--api-key", sb.BrazeAPIKey, "--instance-url", upper, "--brevo-api-key", sb.BrevoAPIKey)
	if err != nil {
		t.Fatalf("install --instance-url %s: %v\n%s%s", upper, err, out, errOut)
	}
	written := filepath.Join(home, "config.yaml")
	if out, _, err := tajo(t, "config", "validate", written); err != nil {
		t.Fatalf("the config install wrote does not validate: %v\n%s", err, out)
	}
	cfg, err := config.Load(written)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.ToLower(upper); cfg.Connectors.Braze.InstanceURL != want {
		t.Errorf("instance_url written = %q, want %q", cfg.Connectors.Braze.InstanceURL, want)
	}
	if out, errOut, err := tajo(t, "connectors", "test", "braze", "--brevo-url", sb.BrevoURL); err != nil {
		t.Errorf("connectors test with the installed config: %v\n%s%s", err, out, errOut)
	}

	// An instance_url with a path: refused by all three, for the same reason.
	withPath := sb.BrazeURL + "/api/v1"
	bad := filepath.Join(home, "path.yaml")
	if err := os.WriteFile(bad, []byte("connectors:\n  braze:\n    instance_url: "+withPath+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const reason = "give only the host, such as rest.iad-01.braze.com: Braze's API has no base path"
	out, _, err = tajo(t, "config", "validate", bad)
	if err == nil || !strings.Contains(out, reason) {
		t.Errorf("config validate accepts an instance_url with a path: %v\n%s", err, out)
	}
	t.Setenv(config.EnvBrazeAPIKey, sb.BrazeAPIKey)
	if _, _, err := tajo(t, "connectors", "test", "braze", "--instance-url", withPath); err == nil || !strings.Contains(err.Error(), reason) {
		t.Errorf("connectors test --instance-url with a path: %v", err)
	}
	if _, _, err := tajo(t, "connectors", "install", "braze", "--instance-url", withPath); err == nil || !strings.Contains(err.Error(), reason) {
		t.Errorf("install --instance-url with a path: %v", err)
	}

	// A value from ${VAR}: the error names the variable.
	t.Setenv("TAJO_TEST_INSTANCE", "http://s3cr3t.internal.example:8080")
	envFile := filepath.Join(home, "env.yaml")
	if err := os.WriteFile(envFile, []byte("connectors:\n  braze:\n    instance_url: ${TAJO_TEST_INSTANCE}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err = tajo(t, "config", "validate", envFile)
	all := out + errOut
	if err != nil {
		all += err.Error()
	}
	if err == nil || strings.Contains(all, "s3cr3t") || !strings.Contains(out, `(got "${TAJO_TEST_INSTANCE}")`) {
		t.Errorf("config validate on an expanded value: %v\n%s", err, all)
	}
}
