package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/mapping"
)

// env is a fixed environment for parse, so tests do not depend on the
// machine's.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

const minimal = "connectors:\n  braze:\n    instance_url: rest.iad-01.braze.com\n"

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string // exact error lines, in order
	}{
		{
			name: "list id not a number",
			yaml: minimal + "    lists:\n      vip: abc\n",
			want: []string{`t.yaml:5: connectors.braze.lists.vip: list id must be a positive integer (got "abc"); use the numeric id shown in Brevo > Contacts > Lists`},
		},
		{
			name: "list id zero and negative",
			yaml: minimal + "    lists:\n      a: 0\n      b: -3\n",
			want: []string{
				`t.yaml:5: connectors.braze.lists.a: list id must be a positive integer (got "0"); use the numeric id shown in Brevo > Contacts > Lists`,
				`t.yaml:6: connectors.braze.lists.b: list id must be a positive integer (got "-3"); use the numeric id shown in Brevo > Contacts > Lists`,
			},
		},
		{
			name: "brevo list_ids item",
			yaml: minimal + "  brevo:\n    list_ids: [3, x]\n",
			want: []string{`t.yaml:5: connectors.brevo.list_ids[1]: list id must be a positive integer (got "x"); use the numeric id shown in Brevo > Contacts > Lists`},
		},
		{
			name: "gateway public url in clear to another host",
			yaml: minimal + "gateway:\n  public_url: http://tajo.example.com\n",
			want: []string{`t.yaml:5: gateway.public_url: plain http would send the install's secret in clear: use https (http is accepted only for localhost and loopback addresses) (got "http://tajo.example.com")`},
		},
		{
			name: "unknown key with suggestion",
			yaml: minimal + "    instance_ur: x\n",
			want: []string{`t.yaml:4: connectors.braze.instance_ur: unknown key; did you mean "instance_url"?`},
		},
		{
			name: "transposed letters",
			yaml: minimal + "    lsits: {}\n",
			want: []string{`t.yaml:4: connectors.braze.lsits: unknown key; did you mean "lists"?`},
		},
		{
			name: "unknown key without suggestion",
			yaml: minimal + "nats:\n  cluster: x\n",
			want: []string{`t.yaml:5: nats.cluster: unknown key; valid keys here: replicas, store_dir, url`},
		},
		{
			name: "unknown top-level section",
			yaml: minimal + "pipline:\n  batch_size: 3\n",
			want: []string{`t.yaml:4: pipline: unknown key; did you mean "pipeline"?`},
		},
		{
			name: "api key in the file",
			yaml: minimal + "    api_key: ${BRAZE_API_KEY:-x}\n  brevo:\n    apiKey: x\n",
			want: []string{
				`t.yaml:4: connectors.braze.api_key: secrets are not read from the config file; set the environment variable BRAZE_API_KEY (or use the credential store) and remove this key`,
				`t.yaml:6: connectors.brevo.apiKey: secrets are not read from the config file; set the environment variable BREVO_API_KEY (or use the credential store) and remove this key`,
			},
		},
		{
			name: "wrong types",
			yaml: minimal + "    debug: yes please\n    sync: [users]\n  brevo:\n    list_ids: 3\npipeline:\n  batch_size: 1.5\n  concurrency: \"2\"\n",
			want: []string{
				`t.yaml:4: connectors.braze.debug: must be true or false (got "yes please")`,
				`t.yaml:5: connectors.braze.sync: must be a mapping of keys (got a list)`,
				`t.yaml:7: connectors.brevo.list_ids: must be a list (got "3")`,
				`t.yaml:9: pipeline.batch_size: must be an integer (got "1.5")`,
				`t.yaml:10: pipeline.concurrency: must be an integer (got "2")`,
			},
		},
		{
			name: "field mapping target not Brevo style",
			yaml: minimal + "    field_mapping:\n      email: email\n      first_name: first-name\n      nickname: EMAIL\n      apps: APPS\n",
			want: []string{
				`t.yaml:6: connectors.braze.field_mapping.first_name: Brevo attribute "first-name" must start with an upper-case letter (example: FIRST_NAME)`,
				`t.yaml:7: connectors.braze.field_mapping.nickname: EMAIL is Brevo's email identifier; use the target "email" instead`,
				`t.yaml:8: connectors.braze.field_mapping.apps: apps is a list of objects in the Braze export and cannot map to one Brevo attribute`,
			},
		},
		{
			name: "field types and region",
			yaml: minimal + "    field_types:\n      SCORE: integer\n    default_phone_region: USA\n",
			want: []string{
				`t.yaml:5: connectors.braze.field_types.SCORE: unknown attribute type "integer": use text, float, boolean or date (Brevo has no integer type: use float)`,
				`t.yaml:6: connectors.braze.default_phone_region: "USA" is not a known ISO 3166-1 alpha-2 region (example: US, GB, FR)`,
			},
		},
		{
			name: "bad durations",
			yaml: minimal + "    sync:\n      users:\n        interval: 15\n        full_every: 1 day\npipeline:\n  batch_wait: 0s\n",
			want: []string{
				`t.yaml:6: connectors.braze.sync.users.interval: must be a duration such as 30s, 15m or 24h (got "15")`,
				`t.yaml:7: connectors.braze.sync.users.full_every: must be a duration such as 30s, 15m or 24h (got "1 day")`,
				`t.yaml:9: pipeline.batch_wait: must be a positive duration such as 1s (got 0s)`,
			},
		},
		{
			name: "full_every shorter than interval",
			yaml: minimal + "    sync:\n      users:\n        interval: 2h\n        full_every: 1h\n",
			want: []string{`t.yaml:7: connectors.braze.sync.users.full_every: must not be shorter than sync.users.interval (1h0m0s < 2h0m0s)`},
		},
		{
			name: "bad log level",
			yaml: minimal + "    log_level: trace\n",
			want: []string{`t.yaml:4: connectors.braze.log_level: unknown log level "trace"; use one of error, warn, info, debug, verbose`},
		},
		{
			name: "urls",
			yaml: "connectors:\n  braze:\n    instance_url: http://rest.iad-01.braze.com\n  brevo:\n    api_url: ftp://x\nnats:\n  url: localhost:4222\n",
			want: []string{
				`t.yaml:3: connectors.braze.instance_url: plain http would send the API key in clear: use https (http is accepted only for localhost and loopback addresses, where the simulators run) (got "http://rest.iad-01.braze.com")`,
				`t.yaml:5: connectors.brevo.api_url: the scheme must be https (got "ftp://x")`,
				`t.yaml:7: nats.url: not a NATS URL (got "localhost:4222"); example: nats://localhost:4222, or leave empty for the embedded server`,
			},
		},
		{
			name: "nats url list",
			yaml: minimal + "nats:\n  url: nats://a:4222,http://b\n",
			want: []string{`t.yaml:5: nats.url: scheme must be nats, tls, ws or wss (got "http://b")`},
		},
		{
			name: "missing instance url points at the section",
			yaml: "connectors:\n  braze:\n    debug: true\n",
			want: []string{`t.yaml:2: connectors.braze.instance_url: required when the Braze connector is enabled: the REST endpoint of your instance, such as rest.iad-01.braze.com (Braze dashboard > Settings > APIs and Identifiers)`},
		},
		{
			name: "pipeline limits",
			yaml: minimal + "pipeline:\n  batch_size: 0\n  max_import_bytes: 20000000\n  import_threshold: -1\n  concurrency: -2\n",
			want: []string{
				`t.yaml:5: pipeline.batch_size: must be a positive integer (got 0); default 30000`,
				`t.yaml:6: pipeline.max_import_bytes: must be at most 10000000, Brevo's limit on an import body (got 20000000)`,
				`t.yaml:7: pipeline.import_threshold: must be zero or more (got -1); default 50`,
				`t.yaml:8: pipeline.concurrency: must be a positive integer (got -2); default 2`,
			},
		},
		{
			name: "duplicate key",
			yaml: minimal + "pipeline:\n  batch_size: 10\n  batch_size: 20\n",
			want: []string{`t.yaml:6: pipeline.batch_size: key given twice (first at line 5); keep one`},
		},
		{
			name: "yaml syntax",
			yaml: minimal + "pipeline:\n  batch_size: [1,\n",
			want: []string{`t.yaml:5: invalid YAML: did not find expected node content`},
		},
		{
			name: "unset variable",
			yaml: "connectors:\n  braze:\n    instance_url: ${NO_SUCH_VAR}\n",
			want: []string{
				`t.yaml:3: environment variable NO_SUCH_VAR is not set; set it, or give a default with ${NO_SUCH_VAR:-value}`,
				`t.yaml:3: connectors.braze.instance_url: required when the Braze connector is enabled: the REST endpoint of your instance, such as rest.iad-01.braze.com (Braze dashboard > Settings > APIs and Identifiers)`,
			},
		},
		{
			name: "all errors at once, in line order",
			yaml: "pipeline:\n  concurrency: x\nconnectors:\n  braze:\n    instance_url: rest.iad-01.braze.com\n    lists: {a: b}\n    colour: red\n",
			want: []string{
				`t.yaml:2: pipeline.concurrency: must be an integer (got "x")`,
				`t.yaml:6: connectors.braze.lists.a: list id must be a positive integer (got "b"); use the numeric id shown in Brevo > Contacts > Lists`,
				`t.yaml:7: connectors.braze.colour: unknown key; valid keys here: api_version, debug, default_phone_region, enabled, event_mapping, field_mapping, field_types, instance_url, lists, log_api_calls, log_level, sync`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parse("t.yaml", []byte(tc.yaml), env(nil))
			var verrs ValidationErrors
			if !errors.As(err, &verrs) {
				t.Fatalf("parse error = %v, want ValidationErrors", err)
			}
			if cfg != nil {
				t.Errorf("parse returned a config along with errors")
			}
			got := strings.Split(verrs.Error(), "\n")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, err := parse("t.yaml", []byte(minimal), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Connectors.Braze.InstanceURL = "https://rest.iad-01.braze.com"
	cfg.src = nil // where keys were in the file: nothing to compare
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("parse(minimal) =\n%+v\nwant\n%+v", cfg, want)
	}
	if !reflect.DeepEqual(cfg.Connectors.Braze.FieldMapping, mapping.DefaultFieldMapping()) {
		t.Errorf("default field mapping = %v", cfg.Connectors.Braze.FieldMapping)
	}
	if cfg.Pipeline.BatchSize != 30_000 || cfg.Pipeline.BatchWait != time.Second || cfg.Pipeline.ImportThreshold != 50 ||
		cfg.Pipeline.MaxImportBytes != 8_000_000 || cfg.Pipeline.Concurrency != 2 {
		t.Errorf("pipeline defaults = %+v", cfg.Pipeline)
	}
	if u := cfg.Connectors.Braze.Sync.Users; !u.Enabled || u.Interval != 15*time.Minute || u.FullEvery != 24*time.Hour {
		t.Errorf("users sync defaults = %+v", u)
	}
	if cfg.Connectors.Braze.APIVersion != "v1" || cfg.Connectors.Brevo.APIURL != "https://api.brevo.com/v3" {
		t.Errorf("api defaults = %q, %q", cfg.Connectors.Braze.APIVersion, cfg.Connectors.Brevo.APIURL)
	}
}

func TestParseEmptyValuesKeepDefaults(t *testing.T) {
	cfg, err := parse("t.yaml", []byte(minimal+"    api_version: \"\"\n    log_level:\n    default_phone_region: fr\nnats:\n  store_dir: \"\"\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Connectors.Braze
	if b.APIVersion != "v1" || b.LogLevel != "info" || b.DefaultPhoneRegion != "FR" {
		t.Errorf("api_version, log_level, region = %q, %q, %q", b.APIVersion, b.LogLevel, b.DefaultPhoneRegion)
	}
	if cfg.NATS.StoreDir != filepath.Join(Home(), "nats") {
		t.Errorf("store_dir = %q", cfg.NATS.StoreDir)
	}
}

func TestFieldMappingReplacesDefault(t *testing.T) {
	cfg, err := parse("t.yaml", []byte(minimal+"    field_mapping:\n      external_id: EXT\n      email: email\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"external_id": "EXT", "email": "email"}
	if !reflect.DeepEqual(cfg.Connectors.Braze.FieldMapping, want) {
		t.Errorf("field_mapping = %v, want %v", cfg.Connectors.Braze.FieldMapping, want)
	}
}

func TestEnvExpansion(t *testing.T) {
	vars := env(map[string]string{"HOST": "rest.fra-01.braze.eu", "SIZE": "250", "EMPTY": ""})
	for _, tc := range []struct {
		name, in, want string
		wantErr        string
	}{
		{name: "plain", in: "url: ${HOST}\n", want: "url: rest.fra-01.braze.eu\n"},
		{name: "default unused", in: "url: ${HOST:-x}\n", want: "url: rest.fra-01.braze.eu\n"},
		{name: "default used", in: "url: ${NOPE:-rest.iad-01.braze.com}\n", want: "url: rest.iad-01.braze.com\n"},
		{name: "empty default", in: "url: ${NOPE:-}\n", want: "url: \n"},
		{name: "empty counts as unset", in: "url: ${EMPTY:-d}\n", want: "url: d\n"},
		{name: "two on a line", in: "a: ${SIZE}${SIZE}\n", want: "a: 250250\n"},
		{name: "escaped", in: "a: $${HOST}\n", want: "a: ${HOST}\n"},
		{name: "lone dollar", in: "a: $5 and $\n", want: "a: $5 and $\n"},
		{name: "comment untouched", in: "a: 1 # ${NOPE}\n# ${ALSO_NOPE}\n", want: "a: 1 # ${NOPE}\n# ${ALSO_NOPE}\n"},
		{name: "hash in quotes is not a comment", in: "a: \"#${SIZE}\"\n", want: "a: \"#250\"\n"},
		{name: "unset", in: "a: b\nc: ${NOPE}\n", wantErr: "2: environment variable NOPE is not set; set it, or give a default with ${NOPE:-value}"},
		{name: "empty without default", in: "c: ${EMPTY}\n", wantErr: "1: environment variable EMPTY is not set; set it, or give a default with ${EMPTY:-value}"},
		{name: "unterminated", in: "c: ${HOST\n", wantErr: "1: unterminated ${ (write $${ for a literal ${)"},
		{name: "bad name", in: "c: ${1X}\n", wantErr: `1: ${1X}: "1X" is not an environment variable name (letters, digits and _, not starting with a digit)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := expandEnv([]byte(tc.in), vars)
			if tc.wantErr != "" {
				if len(errs) != 1 {
					t.Fatalf("errors = %v, want one", errs)
				}
				if g := itoa(errs[0].line) + ": " + errs[0].msg; g != tc.wantErr {
					t.Errorf("error = %q, want %q", g, tc.wantErr)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("errors = %v", errs)
			}
			if string(got) != tc.want {
				t.Errorf("expandEnv(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestEnvExpansionInParse(t *testing.T) {
	vars := env(map[string]string{"BRAZE_HOST": "localhost:9001", "BATCH": "250", "SCHEME": "http"})
	cfg, err := parse("t.yaml", []byte("connectors:\n  braze:\n    instance_url: ${SCHEME}://${BRAZE_HOST}/\npipeline:\n  batch_size: ${BATCH}\n  batch_wait: ${WAIT:-2s}\n"), vars)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Connectors.Braze.InstanceURL != "http://localhost:9001" {
		t.Errorf("instance_url = %q", cfg.Connectors.Braze.InstanceURL)
	}
	if cfg.Pipeline.BatchSize != 250 || cfg.Pipeline.BatchWait != 2*time.Second {
		t.Errorf("pipeline = %+v", cfg.Pipeline)
	}
}

func TestExampleFileIsValid(t *testing.T) {
	t.Setenv("BRAZE_INSTANCE_URL", "")
	t.Setenv("NATS_URL", "")
	cfg, err := Load(filepath.Join("testdata", "tajo.example.yaml"))
	if err != nil {
		t.Fatalf("the example the README points to is invalid:\n%v", err)
	}
	b := cfg.Connectors.Braze
	if b.InstanceURL != "https://rest.iad-01.braze.com" || b.Lists["vip-customers"] != 12 || b.FieldMapping["dob"] != "BIRTHDAY" ||
		cfg.Connectors.Brevo.ListIDs[0] != 3 || b.FieldTypes["LOYALTY_POINTS"] != "float" {
		t.Errorf("example parsed as %+v", cfg)
	}
	if _, err := mapping.New(cfg.MappingOptions()); err != nil {
		t.Errorf("the example's mapping: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want an error wrapping os.ErrNotExist", err)
	}
}

func TestEmptyFileIsDefaultsButNeedsInstance(t *testing.T) {
	_, err := parse("t.yaml", nil, env(nil))
	if err == nil || !strings.Contains(err.Error(), "t.yaml: connectors.braze.instance_url: required") {
		t.Errorf("empty file: %v", err)
	}
	cfg, err := parse("t.yaml", []byte("connectors:\n  braze:\n    enabled: false\n"), env(nil))
	if err != nil || cfg.Connectors.Braze.Enabled {
		t.Errorf("disabled braze: %v, %+v", err, cfg)
	}
}

func TestValidate(t *testing.T) {
	c := Default()
	c.Connectors.Braze.InstanceURL = "rest.iad-01.braze.com"
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate(default + instance) = %v", err)
	}
	c.Connectors.Braze.Lists["vip"] = -1
	c.Pipeline.Concurrency = 0
	err := c.Validate()
	want := "connectors.braze.lists.vip: list id must be a positive integer (got -1); use the numeric id shown in Brevo > Contacts > Lists\n" +
		"pipeline.concurrency: must be a positive integer (got 0); default 2"
	if err == nil || err.Error() != want {
		t.Errorf("Validate() =\n%v\nwant\n%s", err, want)
	}
}

func TestSecretsAndHome(t *testing.T) {
	t.Setenv(EnvBrazeAPIKey, "braze-secret")
	t.Setenv(EnvBrevoAPIKey, "")
	s := Secrets()
	if s.BrazeAPIKey != "braze-secret" || s.BrevoAPIKey != "" {
		t.Errorf("Secrets() = %#v", s)
	}
	for _, printed := range []string{s.String(), s.GoString()} {
		if strings.Contains(printed, "braze-secret") {
			t.Errorf("printing Credentials leaks the key: %s", printed)
		}
	}
	if s.String() != "{BrazeAPIKey:(set) BrevoAPIKey:(unset)}" {
		t.Errorf("String() = %s", s.String())
	}

	t.Setenv(EnvHome, "/srv/tajo")
	if Home() != "/srv/tajo" {
		t.Errorf("Home() with TAJO_HOME = %q", Home())
	}
	t.Setenv(EnvHome, "")
	t.Setenv("HOME", "/home/ana")
	if Home() != "/home/ana/.tajo" {
		t.Errorf("Home() without TAJO_HOME = %q", Home())
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"enabled", "instance_url", "lists", "log_level", "log_api_calls"}
	for in, want := range map[string]string{
		"enabeld": "enabled", "Enabled": "enabled", "instanceurl": "instance_url", "list": "lists",
		"loglevel": "log_level", "x": "", "segments": "", "log_api_call": "log_api_calls",
	} {
		if got := suggest(in, keys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
