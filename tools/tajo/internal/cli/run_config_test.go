package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/logging"
	"github.com/tajo-sync/tajo/tools/sandbox"
)

// productPage is the product page's config block, pasted as a user would
// (pkg/config's test checks what each of its keys did).
var productPage = filepath.Join("..", "..", "..", "..", "pkg", "config", "testdata", "product_page.yaml")

// TestConfigValidateProductPage: the page's block validates (exit 0) in
// both readings of its indentation, and the keys whose feature does not
// exist yet are named as not acted on.
func TestConfigValidateProductPage(t *testing.T) {
	isolate(t)
	for _, file := range []string{productPage, strings.Replace(productPage, "product_page", "product_page_nested", 1)} {
		out, errOut, err := tajo(t, "config", "validate", file)
		if err != nil {
			t.Fatalf("tajo config validate %s: %v\n%s%s", file, err, out, errOut)
		}
		for _, key := range []string{"sync.events"} {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(file) + `:\d+: (connectors\.braze\.)?` + regexp.QuoteMeta(key) + `: not acted on yet: `).MatchString(out) {
				t.Errorf("%s: no notice naming %s:\n%s", file, key, out)
			}
		}
		// sync.segments and lists are acted on: segment mirroring.
		if strings.Contains(out, "segments: not acted on") || strings.Contains(out, "lists: not acted on") {
			t.Errorf("%s: segment mirroring is said not acted on:\n%s", file, out)
		}
		if !strings.HasSuffix(out, file+": valid; the key above is not acted on yet\n") {
			t.Errorf("%s: last line:\n%s", file, out)
		}
	}
	golden(t, "config_validate_product_page.golden", transcript("", mustTajo(t, "config", "validate", productPage), "", nil))
}

func mustTajo(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := tajo(t, args...)
	if err != nil {
		t.Fatalf("tajo %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// TestSwitchedOffIsNotSynced: connectors.braze.enabled: false, sync.users
// false and connectors.brevo.enabled: false stop tajo run and `connectors
// sync`, which say why, before starting anything.
func TestSwitchedOffIsNotSynced(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"braze off", "connectors:\n  braze:\n    enabled: false\n",
			":3: connectors.braze.enabled: false: the Braze connector is switched off, so nothing is synced; set it to true to sync"},
		{"users off", "connectors:\n  braze:\n    instance_url: rest.iad-01.braze.com\nsync:\n  users: false\n",
			":5: sync.users: false: the users sync is switched off and tajo syncs nothing else yet; set it to true to sync"},
		{"users off, mapping form", "connectors:\n  braze:\n    instance_url: rest.iad-01.braze.com\n    sync:\n      users: {enabled: false}\n",
			":5: connectors.braze.sync.users: false: the users sync is switched off"},
		{"brevo off", "connectors:\n  braze:\n    instance_url: rest.iad-01.braze.com\n  brevo:\n    enabled: false\n",
			":5: connectors.brevo.enabled: false: the Brevo connector is switched off, so nothing can be written"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := isolate(t)
			cfg := filepath.Join(home, "tajo.yaml")
			if err := os.WriteFile(cfg, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{
				{"run", "--sandbox", "--once", "--nats-port", "0", "--config", cfg},
				{"connectors", "sync", "braze", "--config", cfg},
			} {
				out, _, err := tajo(t, args...)
				if err == nil || !strings.Contains(err.Error(), "not syncing: "+cfg+tc.want) {
					t.Errorf("tajo %s: %v; want it to refuse with %q\n%s", args[0], err, tc.want, out)
				}
				if strings.Contains(out, "sync ") {
					t.Errorf("tajo %s synced:\n%s", args[0], out)
				}
			}
			if _, err := os.Stat(filepath.Join(home, "sandbox")); err == nil {
				t.Error("the sandbox was started for a switched-off connector")
			}
		})
	}
}

// TestRunFullEvery: tajo run re-exports everything every full_every, and
// runs incremental syncs in between; keys not acted on yet are said at
// start.
func TestRunFullEvery(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline for several syncs; skipped in -short mode")
	}
	home := isolate(t)
	cfg := filepath.Join(home, "tajo.yaml")
	yaml := "connectors:\n  braze:\n    instance_url: rest.iad-01.braze.com\n" +
		"sync:\n  users: {enabled: true, interval: 1s, full_every: 6s}\n  events: true\nlists:\n  vip: 12\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut lockedBuffer
	root := NewRoot("test")
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"run", "--sandbox", "--nats-port", "0", "--sandbox-users", "40", "--config", cfg})
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(runCtx) }()

	waitFor(t, &out, "Next: an incremental sync every 1s, a full re-export every 6s.", time.Minute)
	// A scheduled line per sync: "15:04:05 full sync <id>: ...".
	scheduled := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d (full|incremental) sync `)
	deadline := time.Now().Add(time.Minute)
	for {
		var types []string
		for _, m := range scheduled.FindAllStringSubmatch(out.String(), -1) {
			types = append(types, m[1])
		}
		if len(types) >= 5 {
			seq := strings.Join(types, " ")
			t.Logf("scheduled syncs:\n%s", strings.Join(regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d (full|incremental) sync .*$`).FindAllString(out.String(), -1), "\n"))
			if !strings.Contains(seq, "incremental") || !strings.Contains(seq, "full") {
				t.Errorf("scheduled syncs: %s; want incremental ones and a full re-export every 6s", seq)
			}
			// A full sync of these users takes a second or two:
			// full_every is several times that.
			if strings.Contains(seq, "full full") {
				t.Errorf("scheduled syncs: %s; two full ones in a row with interval 1s and full_every 6s", seq)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d scheduled syncs after a minute:\n%s\nstderr:\n%s", len(types), out.String(), errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if err := awaitStopped(t, done); err != nil {
		t.Fatalf("tajo run: %v\nstderr:\n%s", err, errOut.String())
	}
	for _, want := range []string{
		"note: " + cfg + ":6: sync.events: not acted on yet: ",
		"note: " + cfg + ":7: lists: not acted on yet: ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("tajo run does not say %q:\n%s", want, out.String())
		}
	}
}

// TestRunProductPage runs the product page's config (its URLs pointed at
// simulators the test starts) and checks what each of its keys did in the
// run: the users sync ran; debug and log_level verbose put debug lines in
// the log, log_api_calls a line per vendor call; the field mapping decided
// the Brevo attributes; the keys not acted on yet were named.
func TestRunProductPage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := sandbox.DefaultOptions()
	opts.Users = 60
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Error(err)
		}
	})
	home := isolate(t)
	t.Setenv(config.EnvBrazeAPIKey, sb.BrazeAPIKey)
	t.Setenv(config.EnvBrevoAPIKey, sb.BrevoAPIKey)
	page, err := os.ReadFile(productPage)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(page), `instance_url: "rest.iad-01.braze.com"`, `instance_url: "`+sb.BrazeURL+`"`, 1)
	text = strings.Replace(text, "\nsync:\n", "\n  brevo:\n    api_url: "+sb.BrevoURL+"\n    list_ids: [2]\nsync:\n", 1)
	cfgPath := filepath.Join(home, "tajo.yaml")
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	// lists: {engaged_users: 10, dormant_users: 11}: the sandbox's Braze has
	// both segments; its Brevo account gets lists 3 to 11.
	bv, err := brevo.New(brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	for id := int64(3); id <= 11; id++ {
		if got, err := bv.CreateList(ctx, "list "+strconv.FormatInt(id, 10), 1); err != nil || got != id {
			t.Fatalf("creating list %d: got %d, %v", id, got, err)
		}
	}

	var out, errOut lockedBuffer
	root := NewRoot("test")
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"run", "--once", "--nats-port", "0", "--config", cfgPath})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("tajo run --once: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	stdout := out.String()
	// enabled: true, sync.users: true: the users were synced.
	if got := summaryCount(t, stdout, "exported"); got != int64(opts.Users) {
		t.Errorf("exported %d, want %d", got, opts.Users)
	}
	// sync.segments: true and lists: each segment's users are in its list.
	for name, list := range map[string]int64{"engaged_users": 10, "dormant_users": 11} {
		segID, ok := sb.Braze.SegmentByName(name)
		if !ok {
			t.Fatalf("the sandbox has no segment %s", name)
		}
		members, _ := sb.Braze.Members(segID)
		in := 0
		for _, c := range sb.Brevo.Contacts() {
			if slices.Contains(c.ListIDs, list) {
				in++
			}
		}
		if in == 0 || in > len(members) || !regexp.MustCompile(regexp.QuoteMeta(name)+`\s+-> list `+strconv.FormatInt(list, 10)).MatchString(stdout) {
			t.Errorf("list %d holds %d contacts for segment %s of %d members; run output:\n%s", list, in, name, len(members), stdout)
		}
	}
	// sync.events: named as not acted on yet.
	for _, key := range []string{"sync.events"} {
		if !regexp.MustCompile(`(?m)^note: ` + regexp.QuoteMeta(cfgPath) + `:\d+: ` + regexp.QuoteMeta(key) + `: not acted on yet: `).MatchString(stdout) {
			t.Errorf("tajo run does not say %s is not acted on yet:\n%s", key, stdout)
		}
	}
	// sync.campaigns, sync.canvases: their analytics were read, a line each.
	for _, res := range []string{"campaigns", "canvases"} {
		if !regexp.MustCompile(`(?m)^` + res + `: \d+ days of statistics read \(run \S+, completed\)$`).MatchString(stdout) {
			t.Errorf("tajo run --once does not say it read the %s analytics:\n%s", res, stdout)
		}
	}
	// debug, log_level: verbose, log_api_calls: true.
	logText, err := os.ReadFile(filepath.Join(home, "tajo.log"))
	if err != nil {
		t.Fatal(err)
	}
	env, err := startEnv(ctx, io.Discard, runFlags{configPath: cfgPath})
	if err != nil {
		t.Fatal(err)
	}
	verbose := env.logger.Enabled(ctx, logging.LevelVerbose)
	if err := env.close(); err != nil {
		t.Fatal(err)
	}
	if !verbose {
		t.Errorf("debug: true, log_level: verbose: tajo run's log does not take verbose lines")
	}
	if n := strings.Count(string(logText), "msg=\"api call\""); n == 0 {
		t.Errorf("log_api_calls: true: no api call line in tajo.log")
	}
	// field_mapping: the contacts carry the page's attributes, and no other.
	allowed := map[string]bool{"BRAZE_ID": true, "FIRSTNAME": true, "LASTNAME": true, "SMS": true, "TOTAL_REVENUE": true,
		"PUSH_OPTIN": true, "EMAIL_STATUS": true, "LOYALTY_POINTS": true, "APP_VERSION": true, "LANGUAGE": true}
	seen := map[string]bool{}
	contacts := sb.Brevo.Contacts()
	if len(contacts) == 0 {
		t.Fatal("no Brevo contact after the run")
	}
	for _, c := range contacts {
		for a := range c.Attributes {
			if !allowed[a] {
				t.Errorf("contact %d has attribute %s, which the page's field_mapping does not write", c.ID, a)
			}
			seen[a] = true
		}
	}
	for _, a := range []string{"FIRSTNAME", "LANGUAGE", "LOYALTY_POINTS"} {
		if !seen[a] {
			t.Errorf("no contact has %s (field_mapping maps it); attributes seen: %v", a, seen)
		}
	}
}
