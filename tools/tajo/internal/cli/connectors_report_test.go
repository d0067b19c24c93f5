package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/analytics"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
)

// TestConnectorsReport prints the analytics of a period as a table, CSV
// and JSON, read through NATS_URL; names reach the terminal escaped.
func TestConnectorsReport(t *testing.T) {
	home := isolate(t)
	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: filepath.Join(home, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	t.Setenv("NATS_URL", srv.ClientURL())

	if _, _, err := tajo(t, "connectors", "report", "braze"); err == nil || !strings.Contains(err.Error(), "no analytics here yet") {
		t.Fatalf("before any read: %v", err)
	}
	_, js := natsxtest.Conn(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{}); err != nil {
		t.Fatal(err)
	}
	store, err := analytics.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []analytics.Day{
		{Kind: analytics.KindCampaign, ID: "c1", Date: "2026-11-01", Figures: analytics.Figures{Sent: 100, Delivered: 97, Opens: 30, Clicks: 5, Unsubscribes: 1, Conversions: 2, Revenue: 19.9}},
		{Kind: analytics.KindCampaign, ID: "c1", Date: "2026-11-02", Figures: analytics.Figures{Sent: 50, Delivered: 50}},
		{Kind: analytics.KindCanvas, ID: "v1", Date: "2026-11-02", Figures: analytics.Figures{Sent: 10, Entries: 12}},
	} {
		if err := store.PutDay(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	_ = store.PutMeta(ctx, analytics.Meta{Kind: analytics.KindCampaign, ID: "c1", Name: "Welcome\x1b[2J"})
	_ = store.PutMeta(ctx, analytics.Meta{Kind: analytics.KindCanvas, ID: "v1", Name: "Journey"})

	out, _, err := tajo(t, "connectors", "report", "braze", "--since", "2026-11-02")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Campaign and Canvas analytics, 2026-11-02 to ", "(2 tracked)", `Welcome\x1b[2J`, "Journey", "TOTAL"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("a control character reached the terminal:\n%q", out)
	}
	out, _, err = tajo(t, "connectors", "report", "braze", "--format", "csv", "--until", "2026-11-01")
	if err != nil || !strings.Contains(out, "braze,campaign,c1,Welcome\\x1b[2J,100,97,30,5,1,2,19.90\n") || !strings.Contains(out, "braze,total,,,100,") {
		t.Errorf("csv: %v\n%s", err, out)
	}
	out, _, err = tajo(t, "connectors", "report", "braze", "--format", "json")
	var rep analytics.Report
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || rep.Totals["braze"].Sent != 160 || len(rep.Rows) != 2 || rep.Since != "2026-11-01" {
		t.Errorf("json: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"--since", "last week"}, {"--since", "2026-11-02", "--until", "2026-11-01"}, {"--format", "xml"}} {
		if _, _, err := tajo(t, append([]string{"connectors", "report", "braze"}, args...)...); err == nil {
			t.Errorf("report %v: no error", args)
		}
	}
}
