package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/tools/sandbox"
)

// TestExportSegmentTranscript: the page's command against the sandbox
// prints the page's line, and Brevo's list then holds the segment's users
// with the attributes asked for, and no others.
func TestExportSegmentTranscript(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Options{Users: 400, Seed: 42, RateLimits: true, ExportDelay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	home := isolate(t)
	t.Setenv(config.EnvBrazeAPIKey, sb.BrazeAPIKey)
	t.Setenv(config.EnvBrevoAPIKey, sb.BrevoAPIKey)
	cfg := filepath.Join(home, "config.yaml")
	if err := os.WriteFile(cfg, []byte("connectors:\n  braze:\n    instance_url: "+sb.BrazeURL+"\n  brevo:\n    api_url: "+sb.BrevoURL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	segID, _ := sb.Braze.SegmentByName("High LTV")
	members, err := sb.Braze.Members(segID)
	if err != nil {
		t.Fatal(err)
	}

	out, errOut, err := tajo(t, "connectors", "export-segment", "braze", "--config", cfg, "--segment-id", segID,
		"--target-list", "2", "--include-attributes", "email,first_name,last_name,total_revenue")
	golden(t, "connectors_export_segment.golden", transcript(home, out, errOut, err, sb.BrazeAPIKey, sb.BrevoAPIKey))
	if err != nil {
		t.Fatal(err)
	}

	// What the line counts is in the list, with the attributes asked for.
	inList := 0
	for _, c := range sb.Brevo.Contacts() {
		if !slices.Contains(c.ListIDs, 2) {
			t.Errorf("contact %d is not in list 2", c.ID)
			continue
		}
		inList++
		for a := range c.Attributes {
			if !slices.Contains([]string{"FIRSTNAME", "LASTNAME", "TOTAL_REVENUE", "EXT_ID"}, a) {
				t.Errorf("contact %d has attribute %s, which was not asked for", c.ID, a)
			}
		}
	}
	if want := "Exported " + strconv.Itoa(inList) + " users to Brevo list 2\n"; !strings.HasPrefix(out, want) || inList == 0 || inList > len(members) {
		t.Errorf("printed %q; the list holds %d contacts of a segment of %d", out, inList, len(members))
	}

	for _, tc := range []struct{ name, want string }{
		{"unknown attribute", "include attributes shoe_size: not in the field mapping"},
		{"unknown segment", `no Braze segment "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"connectors", "export-segment", "braze", "--config", cfg, "--segment-id", segID, "--target-list", "2"}
			if tc.name == "unknown attribute" {
				args = append(args, "--include-attributes", "email,shoe_size")
			} else {
				args[6] = "nope"
			}
			if _, _, err := tajo(t, args...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
