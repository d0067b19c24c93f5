package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/gateway"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/services/transformer"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// wiringYAML sets every key the services read to something other than its
// default.
const wiringYAML = `
connectors:
  braze:
    instance_url: http://127.0.0.1:1
    sync:
      users: {segment_id: seg-42, interval: 7m, full_every: 36h}
    field_mapping: {email: email, first_name: FIRSTNAME, phone: SMS}
    default_phone_region: FR
    event_mapping: {purchase: bought}
  brevo:
    api_url: http://127.0.0.1:2/v3
    list_ids: [7, 9]
gateway:
  listen: 127.0.0.1:0
pipeline:
  batch_size: 1234
  batch_wait: 3s
  import_threshold: 77
  max_import_bytes: 4000000
  concurrency: 5
resilience:
  retry: {max_attempts: 9, max_elapsed: 7m}
`

// wired is what `tajo run` hands the services for a configuration.
type wired struct {
	opts   app.Options
	events app.EventsOptions
}

func wiringFor(t *testing.T, cfg *config.Config) wired {
	t.Helper()
	env := &runEnv{home: t.TempDir(), cfg: cfg, logger: slog.New(slog.DiscardHandler)}
	opts, err := appOptions(cfg, config.Credentials{}, nil, env.logger)
	if err != nil {
		t.Fatalf("appOptions: %v", err)
	}
	eo, err := env.eventsOptions(io.Discard)
	if err != nil {
		t.Fatalf("eventsOptions: %v", err)
	}
	return wired{opts: opts, events: eo}
}

func loadWiringConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse("wiring.yaml", []byte(wiringYAML))
	if err != nil {
		t.Fatalf("parsing the test config: %v", err)
	}
	return cfg
}

// TestRunWiringIsTheBinaries: for the same configuration, `tajo run` hands
// each service exactly what its binary does: both take it from the
// service's FromConfig, and tajo run adds only what the process decides.
func TestRunWiringIsTheBinaries(t *testing.T) {
	cfg := loadWiringConfig(t)
	w := wiringFor(t, cfg)

	ex, err := extractor.FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.FieldsToExport) == 0 || ex.Digest == "" || ex.Segment != "seg-42" || ex.FullEvery != 36*time.Hour {
		t.Fatalf("extractor.FromConfig = %+v: want the segment, full_every, the export fields and the digest", ex)
	}
	for _, c := range []struct {
		name      string
		run, want any
	}{
		{"extractor", w.opts.Extractor, ex},
		{"transformer", w.opts.Transformer, transformer.FromConfig(cfg)},
		{"loader", w.opts.Loader, loader.FromConfig(cfg)},
		{"transformer events", w.events.Transformer, transformer.EventsFromConfig(cfg)},
		{"gateway listen", w.events.Gateway.Listen, gateway.FromConfig(cfg).Listen},
		{"resilience", w.opts.Resilience, cfg.Resilience},
		{"mapping", w.opts.Mapping, cfg.MappingOptions()},
	} {
		if !reflect.DeepEqual(c.run, c.want) {
			t.Errorf("%s: tajo run wires\n  %+v\nthe binary\n  %+v", c.name, c.run, c.want)
		}
	}
	// The drift this test was written for: the transformer binary took
	// pipeline.batch_wait, the loader's key, and tajo run did not.
	if tc := w.opts.Transformer; tc.BatchWait != 0 || tc.Concurrency != 5 {
		t.Errorf("transformer: batch_wait %v, concurrency %d; want its own default and 5 from the file", tc.BatchWait, tc.Concurrency)
	}
	if lc := w.opts.Loader; lc.BatchWait != 3*time.Second {
		t.Errorf("loader: batch_wait %v, want 3s from the file", lc.BatchWait)
	}
}

// TestNoKeyAcceptedAndIgnored: changing any key the services read changes
// what `tajo run` hands them (and so what the binaries get, through the same
// FromConfig). Every field of the pipeline section is changed in turn, so a
// key added there without being wired fails here.
func TestNoKeyAcceptedAndIgnored(t *testing.T) {
	base := wiringFor(t, loadWiringConfig(t))
	type change struct {
		key string
		set func(*config.Config)
	}
	var changes []change
	pt := reflect.TypeFor[config.Pipeline]()
	for i := range pt.NumField() {
		f := pt.Field(i)
		key := "pipeline." + strings.Split(f.Tag.Get("yaml"), ",")[0]
		changes = append(changes, change{key, func(c *config.Config) {
			v := reflect.ValueOf(&c.Pipeline).Elem().Field(i)
			switch {
			case v.Type() == reflect.TypeFor[time.Duration]():
				v.SetInt(v.Int() + int64(time.Second))
			case v.CanInt():
				v.SetInt(v.Int() + 7)
			default:
				t.Fatalf("%s: a %s key; teach this test to change it", key, v.Type())
			}
		}})
	}
	users := func(c *config.Config) *config.UsersSync { return &c.Connectors.Braze.Sync.Users }
	changes = append(changes,
		change{"connectors.braze.sync.users.segment_id", func(c *config.Config) { users(c).SegmentID = "other" }},
		change{"connectors.braze.sync.users.full_every", func(c *config.Config) { users(c).FullEvery = time.Hour }},
		change{"connectors.braze.field_mapping", func(c *config.Config) { c.Connectors.Braze.FieldMapping["last_name"] = "LASTNAME" }},
		change{"connectors.braze.default_phone_region", func(c *config.Config) { c.Connectors.Braze.DefaultPhoneRegion = "DE" }},
		change{"connectors.braze.event_mapping", func(c *config.Config) { c.Connectors.Braze.EventMapping["purchase"] = "paid" }},
		change{"connectors.brevo.list_ids", func(c *config.Config) { c.Connectors.Brevo.ListIDs = []config.ListID{3} }},
		change{"connectors.brevo.api_url", func(c *config.Config) { c.Connectors.Brevo.APIURL = "http://127.0.0.1:3/v3" }},
		change{"connectors.braze.instance_url", func(c *config.Config) { c.Connectors.Braze.InstanceURL = "http://127.0.0.1:4" }},
		change{"resilience.retry.max_attempts", func(c *config.Config) { c.Resilience.Retry.MaxAttempts = 2 }},
		change{"resilience.limits.brevo.other_per_hour", func(c *config.Config) { c.Resilience.Limits.Brevo.OtherPerHour = 50 }},
		change{"gateway.public_url", func(c *config.Config) { c.Gateway.PublicURL = "https://tajo.example.com" }},
	)
	for _, ch := range changes {
		t.Run(ch.key, func(t *testing.T) {
			cfg := loadWiringConfig(t)
			ch.set(cfg)
			got := wiringFor(t, cfg)
			// Compare what the services are handed, not the process's own
			// handles (logger, audit, callbacks).
			if reflect.DeepEqual(settingsOf(got), settingsOf(base)) {
				t.Errorf("changing %s changed nothing the services are handed", ch.key)
			}
		})
	}
}

// settingsOf is what a wiring hands the services, from the file.
func settingsOf(w wired) []any {
	o := w.opts
	return []any{o.Braze.BaseURL, o.Brevo.BaseURL, o.Mapping, o.Extractor, o.Transformer, o.Loader, o.Resilience,
		w.events.Transformer, w.events.Gateway.Listen}
}

// TestBinariesTakeSettingsFromFromConfig: each service binary builds its
// service's configuration with FromConfig and reads none of the keys
// FromConfig translates itself, so the binary and `tajo run` (which calls
// the same FromConfig) cannot drift apart.
func TestBinariesTakeSettingsFromFromConfig(t *testing.T) {
	root := filepath.Join("..", "..", "..", "..", "services")
	for _, svc := range []struct {
		name string
		want []string // calls the binary must make
	}{
		{"extractor", []string{"extractor.FromConfig"}},
		{"transformer", []string{"transformer.FromConfig", "transformer.EventsFromConfig"}},
		{"loader", []string{"loader.FromConfig"}},
		{"gateway", []string{"gateway.FromConfig", "bootstrap.StartOps"}},
	} {
		t.Run(svc.name, func(t *testing.T) {
			path := filepath.Join(root, svc.name, "cmd", svc.name, "main.go")
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				t.Fatalf("reading the %s binary: %v", svc.name, err)
			}
			calls := map[string]bool{}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					calls[exprString(n.Fun)] = true
				case *ast.CompositeLit:
					if name := exprString(n.Type); name == svc.name+".Config" || name == "transformer.EventsConfig" {
						t.Errorf("%s builds a %s by hand: take it from FromConfig", path, name)
					}
				case *ast.SelectorExpr:
					if s := exprString(n); s == "cfg.Pipeline" || s == "cfg.Gateway" || s == "cfg.Connectors.Braze.EventMapping" ||
						strings.HasPrefix(s, "cfg.Connectors.Braze.Sync.Users.") && s != "cfg.Connectors.Braze.Sync.Users.Interval" {
						t.Errorf("%s reads %s itself: FromConfig translates it", path, s)
					}
				}
				return true
			})
			for _, c := range svc.want {
				if !calls[c] {
					t.Errorf("%s does not call %s", path, c)
				}
			}
		})
	}
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	}
	return ""
}
