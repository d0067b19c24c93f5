package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/secrets"
	"github.com/tajo-sync/tajo/tools/sandbox"
	sbbraze "github.com/tajo-sync/tajo/tools/sandbox/braze"
)

// startCheckSandbox starts both simulators with their rate limits on, as a
// user's `tajo sandbox` would.
func startCheckSandbox(t *testing.T) *sandbox.Sandbox {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Options{Users: 20, RateLimits: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Error(err)
		}
	})
	return sb
}

// isolate gives the test its own state directory and no keys, master key
// or config file from the environment.
func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv(config.EnvHome, home)
	for _, v := range []string{"TAJO_CONFIG", config.EnvBrazeAPIKey, config.EnvBrevoAPIKey, secrets.EnvMasterKey} {
		t.Setenv(v, "")
	}
	return home
}

// tajo runs the command line and returns stdout, stderr and the error.
func tajo(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRoot("test")
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// transcript is what a terminal shows, with what changes between runs
// masked: ports, the state directory, keys.
func transcript(home, stdout, stderr string, err error, secrets ...string) []byte {
	s := "$ stdout\n" + stdout + "$ stderr\n" + stderr
	if err != nil {
		s += "$ error\ntajo: " + err.Error() + "\n"
	}
	if home != "" {
		s = strings.ReplaceAll(s, home, "$TAJO_HOME")
	}
	for _, k := range secrets {
		s = strings.ReplaceAll(s, k, "KEY")
	}
	return []byte(portRE.ReplaceAllString(s, "127.0.0.1:PORT"))
}

// TestInstallTestUninstall is a user's first session: install against the
// sandbox, test with what was stored (no keys in the environment), uninstall.
func TestInstallTestUninstall(t *testing.T) {
	home := isolate(t)
	sb := startCheckSandbox(t)
	keys := []string{sb.BrazeAPIKey, sb.BrevoAPIKey}

	out, errOut, err := tajo(t, "connectors", "install", "braze", "--api-key", sb.BrazeAPIKey,
		"--instance-url", sb.BrazeURL, "--brevo-api-key", sb.BrevoAPIKey)
	if err != nil {
		t.Fatalf("install: %v\n%s%s", err, out, errOut)
	}
	golden(t, "connectors_install.golden", transcript(home, out, errOut, err, keys...))
	cfg, err := config.Load(filepath.Join(home, "config.yaml"))
	if err != nil {
		t.Fatalf("the config install wrote does not load: %v", err)
	}
	if !cfg.Connectors.Braze.Enabled || cfg.Connectors.Braze.InstanceURL != sb.BrazeURL {
		t.Errorf("config after install: enabled %v, instance_url %q; want true, %q", cfg.Connectors.Braze.Enabled, cfg.Connectors.Braze.InstanceURL, sb.BrazeURL)
	}
	assertNoKeysInFiles(t, home, keys)

	// No keys in the environment and no --instance-url: the stored keys and
	// the config's instance. Brevo's URL is the simulator's.
	out, errOut, err = tajo(t, "connectors", "test", "braze", "--brevo-url", sb.BrevoURL)
	if err != nil {
		t.Fatalf("test after install: %v\n%s%s", err, out, errOut)
	}
	golden(t, "connectors_test_ok.golden", transcript(home, out, errOut, err, keys...))

	out, errOut, err = tajo(t, "connectors", "uninstall", "braze")
	if err != nil {
		t.Fatalf("uninstall: %v\n%s%s", err, out, errOut)
	}
	golden(t, "connectors_uninstall.golden", transcript(home, out, errOut, err, keys...))
	if _, err := os.Stat(filepath.Join(home, secrets.FileName)); !os.IsNotExist(err) {
		t.Errorf("credentials.enc remains after uninstall (stat: %v)", err)
	}
	_, _, err = tajo(t, "connectors", "test", "braze", "--brevo-url", sb.BrevoURL)
	if err == nil || !strings.Contains(err.Error(), "tajo connectors install braze") {
		t.Errorf("test after uninstall: %v; want an error saying to install", err)
	}
	assertReadOnly(t, sb)
}

// TestConnectorsTestFailures: each way a key can be wrong gives its ✗ lines,
// its cause and its fix, and a non-zero exit.
func TestConnectorsTestFailures(t *testing.T) {
	sb := startCheckSandbox(t)
	other := startCheckSandbox(t) // another instance, which does not know sb's key
	sb.Braze.AddKey("key-without-export", without(sbbraze.PagePermissions, sbbraze.PermUsersExportIDs)...)

	for _, tc := range []struct {
		name, brazeKey, brazeURL, brevoKey string
	}{
		{"wrong_key", "not-a-braze-key", sb.BrazeURL, sb.BrevoAPIKey},
		{"wrong_instance", sb.BrazeAPIKey, other.BrazeURL, sb.BrevoAPIKey},
		{"missing_permission", "key-without-export", sb.BrazeURL, sb.BrevoAPIKey},
		{"wrong_brevo_key", sb.BrazeAPIKey, sb.BrazeURL, "xkeysib-not-a-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := isolate(t)
			t.Setenv(config.EnvBrazeAPIKey, tc.brazeKey)
			t.Setenv(config.EnvBrevoAPIKey, tc.brevoKey)
			out, errOut, err := tajo(t, "connectors", "test", "braze", "--instance-url", tc.brazeURL, "--brevo-url", sb.BrevoURL)
			if err == nil {
				t.Fatalf("exit 0 with a bad key:\n%s", out)
			}
			golden(t, "connectors_test_"+tc.name+".golden", transcript(home, out, errOut, err, sb.BrazeAPIKey, sb.BrevoAPIKey))
		})
	}
	assertReadOnly(t, sb)
	assertReadOnly(t, other)
}

// assertReadOnly checks the simulators' request logs: reads, the user
// look-up, writes the vendor refused (4xx) and the 404 no-op contact update
// only; no contact, export or attribute was created.
func assertReadOnly(t *testing.T, sb *sandbox.Sandbox) {
	t.Helper()
	noOpUpdate := regexp.MustCompile(`^PUT /v3/contacts/\{identifier\} (404|401)$`)
	refused := regexp.MustCompile(`^POST /(users/track|users/export/segment|email/status|subscription/status/set) 4\d\d$`)
	seen := 0
	for _, log := range []map[string]int{sb.Braze.Requests(), sb.Brevo.Requests()} {
		keys := make([]string, 0, len(log))
		for k, n := range log {
			keys = append(keys, k)
			seen += n
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !strings.HasPrefix(k, "GET ") && !strings.HasPrefix(k, "POST /users/export/ids ") && !noOpUpdate.MatchString(k) && !refused.MatchString(k) {
				t.Errorf("a check made a request that may write: %s (x%d)", k, log[k])
			}
		}
	}
	if seen == 0 {
		t.Error("the request logs are empty: the checks did not reach the simulators")
	}
	if n := len(sb.Brevo.Contacts()); n != 0 {
		t.Errorf("Brevo has %d contacts after the checks, want 0", n)
	}
	if n := sb.Braze.ExportsStarted(); n != 0 {
		t.Errorf("%d segment exports started by the checks, want 0", n)
	}
}

// assertNoKeysInFiles reads every file of the state directory except the
// encrypted store and looks for the keys.
func assertNoKeysInFiles(t *testing.T, home string, keys []string) {
	t.Helper()
	err := filepath.WalkDir(home, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == secrets.FileName {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if bytes.Contains(data, []byte(k)) {
				t.Errorf("%s holds an API key in clear", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// without is perms less the one left out.
func without(perms []string, leftOut string) []string {
	var out []string
	for _, p := range perms {
		if p != leftOut {
			out = append(out, p)
		}
	}
	return out
}

// pageLines are the product page's lines, word for word.
const pageLines = "✓ API connection successful\n✓ User export accessible\n✓ Campaign data readable\n✓ Segment list accessible\n✓ Event tracking operational\n"

// TestConnectorsTestPagePermissions (issue 8, part 2): a key made exactly
// from the product page's twelve permissions passes every line, the page's
// five first, word for word; a key missing any one of them fails the line
// that needs it, naming the permission; every probe leaves both accounts
// unchanged.
func TestConnectorsTestPagePermissions(t *testing.T) {
	// Without rate limits: thirteen runs in a second would spend Brevo's
	// 10 contact requests a second, which is not what is tested here.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Options{Users: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Error(err)
		}
	})
	secrets := []string{sb.BrazeAPIKey, sb.BrevoAPIKey}
	const pageKey = "page-key-exactly-the-twelve"
	sb.Braze.AddKey(pageKey, sbbraze.PagePermissions...)
	run := func(t *testing.T, key string) (string, string, error) {
		t.Helper()
		isolate(t)
		t.Setenv(config.EnvBrazeAPIKey, key)
		t.Setenv(config.EnvBrevoAPIKey, sb.BrevoAPIKey)
		return tajo(t, "connectors", "test", "braze", "--instance-url", sb.BrazeURL, "--brevo-url", sb.BrevoURL)
	}

	t.Run("exactly the twelve", func(t *testing.T) {
		out, errOut, err := run(t, pageKey)
		if err != nil {
			t.Fatalf("a key made as the page says fails:\n%s", out)
		}
		if !strings.HasPrefix(out, pageLines) {
			t.Errorf("output does not start with the page's five lines:\n%s", out)
		}
		if strings.Contains(out, "✗") {
			t.Errorf("a ✗ for the page's key:\n%s", out)
		}
		golden(t, "connectors_test_page_key.golden", transcript("", out, errOut, err, append(secrets, pageKey)...))
	})
	for _, missing := range sbbraze.PagePermissions {
		t.Run("without "+missing, func(t *testing.T) {
			key := "page-key-without-" + missing
			sb.Braze.AddKey(key, without(sbbraze.PagePermissions, missing)...)
			out, errOut, err := run(t, key)
			if err == nil {
				t.Fatalf("exit 0 for a key without %s:\n%s", missing, out)
			}
			var failedLines []string
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "✗ ") {
					failedLines = append(failedLines, l)
				}
			}
			if len(failedLines) != 1 || !strings.HasSuffix(failedLines[0], ": the key lacks the "+missing+" permission") {
				t.Errorf("without %s: ✗ lines %q; want one, naming it", missing, failedLines)
			}
			golden(t, "connectors_test_without_"+missing+".golden", transcript("", out, errOut, err, append(secrets, key)...))
		})
	}
	assertReadOnly(t, sb)
}
