package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/mapping"
)

// TestProductPageConfig loads the product page's "Basic Setup", "Field
// Mapping" and "Debug Mode" blocks as a user pastes them into one file, in
// both readings of the page's indentation (sync, lists and field_mapping at
// the top level, or under connectors.braze), and checks what each key did.
func TestProductPageConfig(t *testing.T) {
	for _, tc := range []struct {
		file   string
		prefix string // how the file spells the shorthand sections
	}{
		{"product_page.yaml", ""},
		{"product_page_nested.yaml", "connectors.braze."},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			cfg, err := Load(path)
			if err != nil {
				t.Fatalf("the product page's config does not load:\n%v", err)
			}
			b := cfg.Connectors.Braze

			// connectors.braze.enabled: true: the users sync may run.
			if !b.Enabled || cfg.UsersSyncOff() != nil {
				t.Errorf("enabled: %v, UsersSyncOff %v; want the connector on", b.Enabled, cfg.UsersSyncOff())
			}
			// instance_url: https assumed.
			if b.InstanceURL != "https://rest.iad-01.braze.com" {
				t.Errorf("instance_url = %q", b.InstanceURL)
			}
			// api_version: v1, the only version.
			if b.APIVersion != "v1" {
				t.Errorf("api_version = %q", b.APIVersion)
			}
			// debug, log_level, log_api_calls: read by the loggers and the
			// audit recorder (pkg/bootstrap, tajo run).
			if !b.Debug || b.LogLevel != "verbose" || !b.LogAPICalls {
				t.Errorf("debug %v, log_level %q, log_api_calls %v", b.Debug, b.LogLevel, b.LogAPICalls)
			}
			// sync.users: true is {enabled: true} with the defaults.
			if u := b.Sync.Users; u != (UsersSync{Enabled: true, Interval: 15 * time.Minute, FullEvery: 24 * time.Hour}) {
				t.Errorf("sync.users = %+v", u)
			}
			for name, got := range map[string]Toggle{"events": b.Sync.Events} {
				if got != (Toggle{Enabled: true}) {
					t.Errorf("sync.%s = %+v, want enabled", name, got)
				}
			}
			// campaigns and canvases: true is {enabled: true} with the
			// defaults (hourly, 7 trailing days, 30 days of backfill).
			for name, got := range map[string]AnalyticsSync{"campaigns": b.Sync.Campaigns, "canvases": b.Sync.Canvases} {
				if got != (AnalyticsSync{Enabled: true, Interval: time.Hour, TrailingDays: 7}) {
					t.Errorf("sync.%s = %+v, want enabled with the defaults", name, got)
				}
			}
			// sync.segments: true mirrors the segments of lists.
			if got := b.Sync.Segments; got != (SegmentsSync{Enabled: true, Interval: 15 * time.Minute, Folder: DefaultSegmentsFolder}) || !cfg.SegmentsMirrored() {
				t.Errorf("sync.segments = %+v, want enabled with the defaults", got)
			}
			if b.Sync.Catalogs.Enabled {
				t.Error("sync.catalogs is on; the page does not set it")
			}
			// lists: segment name -> Brevo list id.
			if want := map[string]ListID{"engaged_users": 10, "dormant_users": 11}; !reflect.DeepEqual(b.Lists, want) {
				t.Errorf("lists = %v, want %v", b.Lists, want)
			}
			// field_mapping: replaces the default, and the mapping writes
			// exactly its attributes.
			m, err := mapping.New(cfg.MappingOptions())
			if err != nil {
				t.Fatalf("the page's field mapping: %v", err)
			}
			var attrs []string
			for _, a := range m.Attributes() {
				attrs = append(attrs, a.Name)
			}
			wantAttrs := []string{"APP_VERSION", "BRAZE_ID", "EMAIL_STATUS", "FIRSTNAME", "LANGUAGE", "LASTNAME", "LOYALTY_POINTS", "PUSH_OPTIN", "SMS", "TOTAL_REVENUE"}
			if !sameSet(attrs, wantAttrs) {
				t.Errorf("attributes written = %v, want %v", attrs, wantAttrs)
			}
			if len(b.FieldMapping) != 11 || b.FieldMapping["email"] != "email" || b.FieldMapping["loyalty_points"] != "LOYALTY_POINTS" {
				t.Errorf("field_mapping = %v", b.FieldMapping)
			}

			// What is not acted on yet is said, naming the key as written.
			line := func(key string) string {
				for i, l := range strings.Split(mustRead(t, path), "\n") {
					if strings.HasPrefix(strings.TrimSpace(l), key+":") {
						return itoa(i + 1)
					}
				}
				t.Fatalf("%s not in %s", key, path)
				return ""
			}
			var got []string
			for _, n := range cfg.Notices() {
				got = append(got, n.Error())
			}
			p := tc.prefix
			want := []string{
				path + ":" + line("events") + ": " + p + "sync.events: not acted on yet: tajo syncs Braze users, segments, catalogs, campaigns and Canvases today; custom events are not synced",
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("notices:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestSyncResourceForms(t *testing.T) {
	cfg, err := parse("t.yaml", []byte(minimal+"    sync:\n      users: {enabled: true, segment_id: seg-1, interval: 30m}\n      campaigns: false\n      events: {enabled: true, interval: 1h}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Connectors.Braze.Sync
	if s.Users != (UsersSync{Enabled: true, SegmentID: "seg-1", Interval: 30 * time.Minute, FullEvery: 24 * time.Hour}) {
		t.Errorf("users = %+v", s.Users)
	}
	if s.Campaigns.Enabled || s.Events != (Toggle{Enabled: true, Interval: time.Hour}) {
		t.Errorf("campaigns %+v, events %+v", s.Campaigns, s.Events)
	}
	if n := cfg.Notices(); len(n) != 1 || n[0].Path != "connectors.braze.sync.events" || n[0].Line != 7 {
		t.Errorf("notices = %v; want one, for sync.events on line 7", n)
	}

	for _, tc := range []struct{ name, yaml, want string }{
		{"neither bool nor mapping", "sync:\n  users: yes please\n", `t.yaml:5: sync.users: must be true, false or a mapping such as {enabled: true, interval: 15m} (got "yes please")`},
		{"given both ways", "    sync: {users: true}\nsync:\n  users: false\n", `t.yaml:5: sync: also given under connectors.braze (line 4); keep one of the two`},
		{"shorthand key checked as its section", "lists:\n  vip: abc\n", `t.yaml:5: lists.vip: list id must be a positive integer (got "abc"); use the numeric id shown in Brevo > Contacts > Lists`},
		{"shorthand paths in checks", "sync:\n  users:\n    interval: 2h\n    full_every: 1h\n", `t.yaml:7: sync.users.full_every: must not be shorter than sync.users.interval (1h0m0s < 2h0m0s)`},
		{"typo of a shorthand key", "field_maping: {}\n", `t.yaml:4: field_maping: unknown key; did you mean "field_mapping"?`},
		{"api_version other than v1", "    api_version: v2\n", `t.yaml:4: connectors.braze.api_version: only v1 exists: Braze's REST API has one version, which tajo calls (got "v2"); write v1 or leave it out`},
		{"negative interval", "sync:\n  events: {interval: -1h}\n", `t.yaml:5: sync.events.interval: must not be negative (got -1h0m0s)`},
		{"analytics interval", "sync:\n  canvases: {interval: -1h}\n", `t.yaml:5: sync.canvases.interval: must be a positive duration such as 1h (got -1h0m0s)`},
		{"analytics since", "sync:\n  campaigns: {enabled: true, since: 2025-13-01}\n", `t.yaml:5: sync.campaigns.since: want a date such as 2025-01-31 (got "2025-13-01")`},
		{"trailing days", "sync:\n  campaigns: {enabled: true, trailing_days: 0}\n", `t.yaml:5: sync.campaigns.trailing_days: must be 1 to 90: the recent days re-read at every run, as Braze restates them (got 0; default 7)`},
		{"catalogs segment_id", "sync:\n  catalogs: {enabled: true, segment_id: x}\n", `t.yaml:5: sync.catalogs.segment_id: unknown key; valid keys here: catalogs, enabled, interval, mapping`},
		{"catalog mapping", "sync:\n  catalogs:\n    enabled: true\n    mapping: {name: \"\", metadata: [a, a]}\n", "t.yaml:7: sync.catalogs.mapping.name: required: the item field holding the product's name (Brevo requires one)\n" +
			`t.yaml:7: sync.catalogs.mapping.metadata[1]: field "a" is listed twice`},
		{"catalog name", "sync:\n  catalogs: {enabled: true, catalogs: [\"a b\"]}\n", `t.yaml:5: sync.catalogs.catalogs[0]: "a b" is not a Braze catalog name: letters, digits, - and _ only`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse("t.yaml", []byte(minimal+tc.yaml), env(nil))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error:\n%v\nwant:\n%s", err, tc.want)
			}
		})
	}
}

func TestSwitchedOff(t *testing.T) {
	for _, tc := range []struct{ name, yaml, users, brevo string }{
		{"braze off", "connectors:\n  braze:\n    enabled: false\n", "t.yaml:3: connectors.braze.enabled: false: the Braze connector is switched off, so nothing is synced; set it to true to sync: switched off in the configuration", ""},
		{"users off", minimal + "sync:\n  users: false\n", "t.yaml:5: sync.users: false: the users sync is switched off and tajo syncs nothing else yet; set it to true to sync: switched off in the configuration", ""},
		{"users off nested", minimal + "    sync:\n      users: {enabled: false}\n", "t.yaml:5: connectors.braze.sync.users: false: the users sync is switched off and tajo syncs nothing else yet; set it to true to sync: switched off in the configuration", ""},
		{"brevo off", minimal + "  brevo:\n    enabled: false\n", "", "t.yaml:5: connectors.brevo.enabled: false: the Brevo connector is switched off, so nothing can be written; set it to true to sync: switched off in the configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parse("t.yaml", []byte(tc.yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			for what, pair := range map[string]struct {
				err  error
				want string
			}{"UsersSyncOff": {cfg.UsersSyncOff(), tc.users}, "BrevoOff": {cfg.BrevoOff(), tc.brevo}} {
				switch {
				case pair.want == "" && pair.err != nil:
					t.Errorf("%s = %v, want nil", what, pair.err)
				case pair.want != "" && (pair.err == nil || pair.err.Error() != pair.want || !errors.Is(pair.err, ErrSyncOff)):
					t.Errorf("%s =\n%v\nwant\n%s", what, pair.err, pair.want)
				}
			}
		})
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
