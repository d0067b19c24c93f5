package cli

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/tools/sandbox"
)

// Keys the leak test looks for. The Braze one has no recognisable shape, so
// only the literal redaction of configured keys can hide it; the Brevo one
// has Brevo's prefix.
const (
	leakBrazeKey = "leaktest-braze-rest-key-5f0c1d2e3a4b"
	leakBrevoKey = "xkeysib-leaktest0123456789abcdef0123456789abcdef-LeakTestAbCd"
)

// TestNoSecretLeaks runs a full sync with known keys and every logging
// switch on (debug, verbose, log_api_calls), then looks for either key in
// everything an operator can see: the commands' output, the log, every
// audit entry, every dead letter, the status output and every file under
// the state directory (the encrypted credential file excepted).
func TestNoSecretLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := sandbox.DefaultOptions()
	opts.Users, opts.BrazeAPIKey, opts.BrevoAPIKey = 150, leakBrazeKey, leakBrevoKey
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })

	home := auditEnv(t, "")
	t.Setenv("BRAZE_API_KEY", leakBrazeKey)
	t.Setenv("BREVO_API_KEY", leakBrevoKey)
	cfgPath := filepath.Join(home, "config.yaml")
	cfg := fmt.Sprintf(`connectors:
  braze:
    instance_url: %s
    debug: true
    log_level: verbose
    log_api_calls: true
  brevo:
    api_url: %s
    list_ids: [2]
`, sb.BrazeURL, sb.BrevoURL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	seen := map[string]string{} // what was looked at -> its content
	run := func(args ...string) string {
		out, errOut, err := runTajo(ctx, args...)
		name := "tajo " + strings.Join(args, " ")
		seen[name+" (stdout)"], seen[name+" (stderr)"] = out, errOut
		if err != nil {
			t.Errorf("%s: %v\nstdout:\n%s\nstderr:\n%s", name, err, out, errOut)
		}
		return out
	}
	run("run", "--once", "--nats-port", "0", "--config", cfgPath)
	tail := run("audit", "tail", "-n", "1000000", "--json", "--config", cfgPath)
	run("audit", "tail", "-n", "1000000", "--config", cfgPath)
	if !strings.Contains(tail, `"vendor":"braze"`) || !strings.Contains(tail, `"vendor":"brevo"`) {
		t.Errorf("the audit log lacks calls to both vendors:\n%s", tail)
	}
	if status, _, err := NewRoot("test").Find([]string{"connectors", "status"}); err == nil && status.Name() == "status" {
		run("connectors", "status", "braze", "--config", cfgPath)
		run("connectors", "status", "braze", "--json", "--config", cfgPath)
	} else {
		t.Log("no `tajo connectors status` in this build: status output not checked")
	}

	log, err := os.ReadFile(filepath.Join(home, "tajo.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(log, []byte(`msg="api call" vendor=braze`)) || !bytes.Contains(log, []byte(`msg="api call" vendor=brevo`)) {
		t.Errorf("log_api_calls: no api call lines for both vendors in tajo.log")
	}
	// Personal data stays out of the log too: any e-mail is masked.
	if m := regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.`).FindAll(log, 5); len(m) > 0 {
		t.Errorf("tajo.log holds e-mail addresses: %q", m)
	}

	streamed := readStreams(t, ctx, filepath.Join(home, "nats"), proto.StreamAudit, proto.StreamDLQ)
	if streamed.counts[proto.StreamAudit] == 0 {
		t.Error("no audit entries in the store")
	}
	t.Logf("checked %d audit entries, %d dead letters, %d command outputs",
		streamed.counts[proto.StreamAudit], streamed.counts[proto.StreamDLQ], len(seen))
	for name, content := range streamed.contents {
		seen[name] = content
	}
	files := 0
	err = filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "credentials.enc" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		seen[path] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 {
		t.Errorf("only %d files under the state directory: did the run write its store and log there?", files)
	}
	// The search itself works: a planted key is found.
	if len(leaks(map[string]string{"planted": "x" + leakBrazeKey + "y"})) != 1 {
		t.Fatal("the key search misses a planted key")
	}
	for _, l := range leaks(seen) {
		t.Error(l)
	}
}

// leaks names each place in seen that holds one of the keys.
func leaks(seen map[string]string) []string {
	var out []string
	for name, content := range seen {
		for _, key := range []string{leakBrazeKey, leakBrevoKey} {
			if i := strings.Index(content, key); i >= 0 {
				out = append(out, fmt.Sprintf("%s holds an API key: ...%s...", name, excerpt(content, i, len(key))))
			}
		}
	}
	return out
}

// streamDump counts the messages read per stream and keeps each one (subject,
// headers and payload) by name.
type streamDump struct {
	counts   map[string]int
	contents map[string]string
}

// readStreams opens the store (no tajo runs on it any more) and reads every
// message of the named streams.
func readStreams(t *testing.T, ctx context.Context, store string, streams ...string) streamDump {
	t.Helper()
	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: store})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := natsx.Connect(ctx, srv.ClientURL(), "leak-test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	d := streamDump{counts: map[string]int{}, contents: map[string]string{}}
	for _, name := range streams {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
			m, err := s.GetMsg(ctx, seq)
			if err != nil {
				t.Fatalf("%s message %d: %v", name, seq, err)
			}
			d.counts[name]++
			d.contents[fmt.Sprintf("%s message %d", name, seq)] = fmt.Sprintf("%s %v %s", m.Subject, m.Header, m.Data)
		}
	}
	return d
}

func excerpt(s string, i, n int) string {
	from, to := max(0, i-40), min(len(s), i+n+40)
	return s[from:to]
}
