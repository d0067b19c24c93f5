package nodesdk

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// TestBrevoNodeSDK runs drive.js, which goes through the calls the connector
// makes (account, attributes, contacts, import and its process, lists and
// folders) and those of issue 15 with @getbrevo/brevo, and fails on any
// error the SDK raises while reading an answer or any answer lacking what
// the SDK's types require. Then the simulator's state must show the session.
func TestBrevoNodeSDK(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("Node is absent (no node on PATH): the Brevo Node SDK test is skipped; .ci/run installs nodejs and npm")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := os.Stat(filepath.Join("node_modules", "@getbrevo", "brevo", "package.json")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("node is installed but npm is not: cannot install the SDK (%v)", err)
		}
		out, err := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund").CombinedOutput()
		if err != nil {
			t.Fatalf("npm ci (installing @getbrevo/brevo from package-lock.json): %v\n%s", err, out)
		}
	}

	const key = "xkeysib-nodesdk-test"
	srv := brevo.New(brevo.Config{APIKey: key, ImportDelay: 100 * time.Millisecond})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	cmd := exec.CommandContext(ctx, node, "drive.js")
	cmd.Env = append(os.Environ(), "BREVO_BASE_URL="+ts.URL+"/v3", "BREVO_API_KEY="+key)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if strings.HasPrefix(line, "FAIL") {
			t.Error(line)
		}
	}
	if err != nil {
		t.Fatalf("node drive.js: %v\n%s", err, out.String())
	}
	if !strings.HasSuffix(strings.TrimSpace(out.String()), "PASS") {
		t.Fatalf("drive.js did not report PASS:\n%s", out.String())
	}

	// The session landed: Ann and Bob merged into one contact, two imported;
	// three events stored (the partial batch's valid one included); a
	// folder of our own beside the fresh account's.
	st := srv.State()
	if st.Contacts != 3 || st.MergedAway != 1 || st.Imports.Completed != 1 || st.Imports.Rows.Created != 2 {
		t.Errorf("state after the session: %d contacts, %d merged away, imports %+v", st.Contacts, st.MergedAway, st.Imports)
	}
	if st.Events.Count != 4 || st.Events.ByName["cart_viewed"] != 3 {
		t.Errorf("events after the session: %+v", st.Events)
	}
	if len(st.Folders) != 2 || st.Folders[1].Name != "tajo" {
		t.Errorf("folders after the session: %+v", st.Folders)
	}
	if c, ok := srv.ContactByExtID("cust_0000003"); !ok || c.Attributes["FIRSTNAME"] != "Carlos" {
		t.Errorf("cust_0000003 after an event's contact_properties: %+v", c)
	}
	for k, n := range st.Requests {
		if strings.HasSuffix(k, " 500") || strings.Contains(k, "<unmatched>") {
			t.Errorf("%d requests %s", n, k)
		}
	}
}
