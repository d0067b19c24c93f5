package gateway_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tajo-sync/tajo/pkg/analytics"
	"github.com/tajo-sync/tajo/pkg/apikeys"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/services/gateway"
)

// TestReport: GET /v1/connectors/braze/report sums the stored days of the
// period per campaign, with totals, as JSON or CSV; bad dates are 400.
func TestReport(t *testing.T) {
	_, nc, js := natsxtest.Start(t)
	ctx := context.Background()
	store, err := analytics.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []analytics.Day{
		{Kind: analytics.KindCampaign, ID: "c1", Date: "2026-11-01", Figures: analytics.Figures{Sent: 10, Opens: 4, Revenue: 1.5}},
		{Kind: analytics.KindCampaign, ID: "c1", Date: "2026-11-02", Figures: analytics.Figures{Sent: 20, Opens: 5}},
		{Kind: analytics.KindCampaign, ID: "c1", Date: "2026-10-31", Figures: analytics.Figures{Sent: 1000}}, // before the period
		{Kind: analytics.KindCanvas, ID: "v1", Date: "2026-11-02", Figures: analytics.Figures{Sent: 7, Entries: 9}},
	} {
		if err := store.PutDay(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.PutMeta(ctx, analytics.Meta{Kind: analytics.KindCampaign, ID: "c1", Name: "Welcome"}); err != nil {
		t.Fatal(err)
	}
	keys, _ := apikeys.Open(t.TempDir())
	key, _, err := keys.Create("report")
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(nc, gateway.Config{CurrentsToken: token, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{url: httptestServer(t, g.Handler())}
	code, body := f.do(t, "GET", "/v1/connectors/braze/report?since=2026-11-01&until=2026-11-30", "Bearer "+key, nil)
	if code != 200 {
		t.Fatalf("report: %d %v", code, body)
	}
	totals := body["totals"].(map[string]any)["braze"].(map[string]any)
	rows := body["rows"].([]any)
	if totals["sent"] != 37.0 || totals["opens"] != 9.0 || totals["revenue"] != 1.5 || len(rows) != 2 || body["campaignsTracked"] != 1.0 {
		t.Errorf("report: %v", body)
	}
	if r := rows[0].(map[string]any); r["name"] != "Welcome" || r["sent"] != 30.0 || r["days"] != 2.0 {
		t.Errorf("campaign row: %v", r)
	}

	req, _ := http.NewRequest("GET", f.url+"/v1/connectors/braze/report?since=2026-11-01&format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(lines) != 4 ||
		lines[1] != "braze,campaign,c1,Welcome,30,0,9,0,0,0,1.50" || lines[3] != "braze,total,,,37,0,9,0,0,0,1.50" {
		t.Errorf("csv report %q:\n%s", resp.Header.Get("Content-Type"), csv)
	}
	for _, q := range []string{"since=yesterday", "since=2026-11-02&until=2026-11-01", "format=xml"} {
		if code, body := f.do(t, "GET", "/v1/connectors/braze/report?"+q, "Bearer "+key, nil); code != 400 {
			t.Errorf("report?%s: %d %v", q, code, body)
		}
	}
}
