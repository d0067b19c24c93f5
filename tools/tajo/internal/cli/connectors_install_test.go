package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tajo-sync/tajo/pkg/config"
)

func TestParseInstance(t *testing.T) {
	for _, tc := range []struct {
		in, url string
		warn    string // part of the warning, "" for none
		err     string // part of the error
	}{
		{in: "rest.iad-01.braze.com", url: "https://rest.iad-01.braze.com"},
		{in: "https://rest.iad-08.braze.com/", url: "https://rest.iad-08.braze.com"},
		{in: " REST.FRA-02.BRAZE.EU ", url: "https://rest.fra-02.braze.eu"},
		{in: "http://LOCALHOST:8080", url: "http://localhost:8080", warn: "loopback"},
		{in: "rest.au-01.braze.com", url: "https://rest.au-01.braze.com"},
		{in: "rest.iad-09.braze.com", url: "https://rest.iad-09.braze.com", warn: "not a known Braze REST endpoint"},
		{in: "dashboard-01.braze.com", url: "https://dashboard-01.braze.com", warn: "dashboard's address"},
		{in: "http://127.0.0.1:8080", url: "http://127.0.0.1:8080", warn: "loopback"},
		{in: "http://localhost:8080", url: "http://localhost:8080", warn: "loopback"},
		{in: "http://rest.iad-01.braze.com", err: "plain http would send the API key in clear: use https"},
		{in: "http://braze.localhost:8080", err: "plain http"},
		{in: "ftp://rest.iad-01.braze.com", err: "the scheme must be https"},
		{in: "rest.iad-01.braze.com/api/v1", err: "only the host"},
		{in: "https://user:pw@rest.iad-01.braze.com", err: "no credentials"},
		{in: "https://", err: "not a host name"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseInstance(tc.in, "--instance-url")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || got.url != tc.url {
				t.Fatalf("got %q, %v; want %q", got.url, err, tc.url)
			}
			warned := strings.Join(got.warnings, "\n")
			if (tc.warn == "") != (warned == "") || !strings.Contains(warned, tc.warn) {
				t.Errorf("warnings %q, want %q", warned, tc.warn)
			}
		})
	}
}

// TestEnableInConfig edits a commented file: the comments and every other
// setting survive, and the result loads.
func TestEnableInConfig(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "install_before.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tajo.yaml")
	if err := os.WriteFile(path, src, 0o640); err != nil {
		t.Fatal(err)
	}
	created, problems, err := enableInConfig(path, "https://rest.fra-01.braze.eu")
	if err != nil || created || problems != nil {
		t.Fatalf("enableInConfig: created %v, problems %v, err %v", created, problems, err)
	}
	got, _ := os.ReadFile(path)
	golden(t, "install_after.golden", got)
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %04o, want the file's own 0640", fi.Mode().Perm())
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Connectors.Braze
	if !b.Enabled || b.InstanceURL != "https://rest.fra-01.braze.eu" || cfg.Pipeline.BatchSize != 500 || b.FieldMapping["first_name"] != "FIRSTNAME" {
		t.Errorf("after the edit: %+v, batch size %d", b, cfg.Pipeline.BatchSize)
	}

	// An empty file, and one with only a comment, get the keys added.
	for name, content := range map[string]string{"empty": "", "comment": "# nothing yet\n", "null connectors": "connectors:\n"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			os.WriteFile(p, []byte(content), 0o600)
			if _, problems, err := enableInConfig(p, "https://rest.iad-03.braze.com"); err != nil || problems != nil {
				t.Fatalf("%v %v", problems, err)
			}
			cfg, err := config.Load(p)
			if err != nil || cfg.Connectors.Braze.InstanceURL != "https://rest.iad-03.braze.com" {
				t.Fatalf("%v %v", cfg, err)
			}
		})
	}
	// Not YAML: refused, the file untouched.
	p := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(p, []byte("connectors: [unclosed\n"), 0o600)
	if _, _, err := enableInConfig(p, "https://rest.iad-01.braze.com"); err == nil || !strings.Contains(err.Error(), "tajo config validate") {
		t.Errorf("invalid YAML: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "connectors: [unclosed\n" {
		t.Errorf("an invalid file was rewritten: %q", b)
	}
}
