package pagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox"
	"github.com/tajo-sync/tajo/tools/tajo/internal/cli"
)

// TestStatusAPIHoldsTheCLIStatus: after a sync, GET
// /v1/connectors/braze/status answers what `tajo connectors status braze
// --json` prints against the same deployment, field for field (but when
// each was read, and where from).
func TestStatusAPIHoldsTheCLIStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline: skipped with -short")
	}
	s := startStack(t, sandbox.Options{Users: 300, Seed: 5, MalformedLines: true})
	id := s.sync(t, "full")
	// Done, and the workers have reported their breakers once (every 2 s):
	// a sync shorter than that would leave the CLI and the API reading
	// either side of the first report.
	waitFor(t, time.Minute, "run "+id+" done and the breakers reported", func() bool {
		st := s.status(t)
		r := st.Resources["users"]
		return r != nil && r.ID == id && r.Done && st.Breakers != nil
	})

	home := t.TempDir()
	cfg := filepath.Join(home, "config.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "connectors:\n  braze:\n    instance_url: %s\n  brevo:\n    api_url: %s\n",
		s.sb.BrazeURL, s.sb.BrevoURL), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TAJO_HOME", home)
	t.Setenv("TAJO_CONFIG", "")
	t.Setenv("NATS_URL", s.natsURL)
	t.Setenv("BRAZE_API_KEY", s.sb.BrazeAPIKey)
	t.Setenv("BREVO_API_KEY", s.sb.BrevoAPIKey)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	root := cli.NewRoot("test")
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"connectors", "status", "braze", "--json", "--config", cfg})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("tajo connectors status: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	var fromCLI, fromAPI map[string]any
	if err := json.Unmarshal(out.Bytes(), &fromCLI); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	s.call(t, "GET", "/v1/connectors/braze/status", "", http.StatusOK, &fromAPI)
	for _, m := range []map[string]any{fromCLI, fromAPI} {
		delete(m, "readAt")
		delete(m, "state")
		brs, _ := m["breakers"].([]any)
		for _, b := range brs {
			delete(b.(map[string]any), "reported_at") // each process reports every 2 s
		}
	}
	if fromAPI["connected"] != true || fromAPI["lastSync"] == nil || len(fromAPI["runs"].([]any)) != 1 || len(fromAPI["deadLetters"].([]any)) == 0 {
		t.Fatalf("the API's status lacks what the sync did: %v", fromAPI)
	}
	if !reflect.DeepEqual(fromCLI, fromAPI) {
		for k := range fromCLI {
			if !reflect.DeepEqual(fromCLI[k], fromAPI[k]) {
				t.Errorf("%s: CLI %v\n   API %v", k, fromCLI[k], fromAPI[k])
			}
		}
		for k := range fromAPI {
			if _, ok := fromCLI[k]; !ok {
				t.Errorf("%s: only in the API", k)
			}
		}
	}
}
