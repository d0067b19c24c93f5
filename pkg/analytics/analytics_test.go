package analytics_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/analytics"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
)

func TestFigures(t *testing.T) {
	day := braze.CampaignDay{
		Messages: braze.Messages{
			"email":                  {{"sent": 100, "delivered": 97, "unique_opens": 30, "opens": 45, "unique_clicks": 5, "clicks": 9, "unsubscribes": 2, "bounces": 3}},
			"ios_push":               {{"sent": 50, "bounces": 5, "direct_opens": 4, "total_opens": 9, "body_clicks": 2}},
			"android_push":           {{"sent": 10, "direct_opens": 1}, {"sent": 10, "direct_opens": 2}},
			"sms":                    {{"sent": 20, "delivered": 19}},
			"webhook":                {{"sent": 8, "errors": 1}},
			"trigger_in_app_message": {{"impressions": 40, "clicks": 3}},
		},
		Conversions: 7, Revenue: 70.5,
	}
	got := analytics.CampaignDay(day)
	want := analytics.Figures{Sent: 198, Delivered: 97 + 45 + 20 + 19 + 7, Opens: 30 + 4 + 3 + 40, Clicks: 5 + 2 + 3,
		Unsubscribes: 2, Bounces: 8, Conversions: 7, Revenue: 70.5}
	if got != want {
		t.Errorf("campaign day:\n got %+v\nwant %+v", got, want)
	}
	cv := braze.CanvasDay{
		TotalStats:   braze.CanvasTotals{Entries: 12, Conversions: 3, Revenue: 9},
		VariantStats: map[string]braze.CanvasTotals{"v1": {Name: "A", Entries: 7, Conversions: 2, Revenue: 6}},
		StepStats: map[string]braze.CanvasStepStats{
			"s1": {Name: "Email", Conversions: 1, Messages: braze.Messages{"email": {{"sent": 10, "delivered": 9, "unique_opens": 4}}}},
			"s2": {Name: "Push", Messages: braze.Messages{"ios_push": {{"sent": 5, "direct_opens": 1}}}},
		},
	}
	f, steps, variants := analytics.CanvasDay(cv)
	if f != (analytics.Figures{Entries: 12, Conversions: 3, Revenue: 9, Sent: 15, Delivered: 14, Opens: 5}) {
		t.Errorf("canvas day: %+v", f)
	}
	if steps["s1"].Figures != (analytics.Figures{Sent: 10, Delivered: 9, Opens: 4, Conversions: 1}) ||
		steps["s2"].Figures != (analytics.Figures{Sent: 5, Delivered: 5, Opens: 1}) || variants["v1"].Figures.Entries != 7 || variants["v1"].Name != "A" {
		t.Errorf("breakdowns: %+v %+v", steps, variants)
	}
}

// TestStoreAndReport: a day stored twice keeps the last figures; the
// report sums the period per campaign, names them, totals each source and
// leaves out Brevo campaigns sent outside the period.
func TestStoreAndReport(t *testing.T) {
	_, _, js := natsxtest.Start(t)
	ctx := context.Background()
	s, err := analytics.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	put := func(kind, id, date string, sent int64) {
		t.Helper()
		if err := s.PutDay(ctx, analytics.Day{Kind: kind, ID: id, Date: date, Figures: analytics.Figures{Sent: sent, Revenue: float64(sent) / 10}}); err != nil {
			t.Fatal(err)
		}
	}
	put(analytics.KindCampaign, "c.1/odd", "2026-11-01", 100)
	put(analytics.KindCampaign, "c.1/odd", "2026-11-01", 40) // restated: replaces
	put(analytics.KindCampaign, "c.1/odd", "2026-11-03", 5)
	put(analytics.KindCampaign, "c.1/odd", "2026-12-01", 1000) // after the period
	put(analytics.KindCanvas, "v1", "2026-11-02", 7)
	if err := s.PutDay(ctx, analytics.Day{Kind: analytics.KindCampaign, ID: "x", Date: "01/11/2026"}); err == nil {
		t.Error("a day not YYYY-MM-DD was stored")
	}
	_ = s.PutMeta(ctx, analytics.Meta{Kind: analytics.KindCampaign, ID: "c.1/odd", Name: "Odd \x1b[31mname"})
	_ = s.PutMeta(ctx, analytics.Meta{Kind: analytics.KindCampaign, ID: "quiet", Name: "Nothing sent"})
	_ = s.PutBrevo(ctx, analytics.BrevoCampaign{ID: 11, Name: "News", SentDate: "2026-11-15T10:00:00.000Z", Figures: analytics.Figures{Sent: 9}})
	_ = s.PutBrevo(ctx, analytics.BrevoCampaign{ID: 12, Name: "Old", SentDate: "2026-10-01T10:00:00.000Z", Figures: analytics.Figures{Sent: 99}})

	rep, err := analytics.Build(ctx, s, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tracked != 2 || len(rep.Rows) != 4 || rep.Totals["braze"].Sent != 52 || rep.Totals["brevo"].Sent != 9 {
		t.Fatalf("report: %+v", rep)
	}
	byID := map[string]analytics.Row{}
	for _, r := range rep.Rows {
		byID[r.ID] = r
	}
	if r := byID["c.1/odd"]; r.Sent != 45 || r.Days != 2 || r.Revenue != 4.5 || r.Name != "Odd \x1b[31mname" {
		t.Errorf("campaign row: %+v", r)
	}
	if r := byID["quiet"]; r.Sent != 0 || r.Name != "Nothing sent" {
		t.Errorf("a tracked campaign without days: %+v", r)
	}
	if n, _ := s.Tracked(ctx); n != 2 {
		t.Errorf("Tracked = %d", n)
	}

	var table, csv bytes.Buffer
	clean := func(s string) string { return strings.ReplaceAll(s, "\x1b", `\x1b`) }
	if err := rep.WriteTable(&table, clean); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteCSV(&csv, clean); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{table.String(), csv.String()} {
		if strings.Contains(out, "\x1b") || !strings.Contains(out, `Odd \x1b[31mname`) {
			t.Errorf("a name's control characters reached the output:\n%s", out)
		}
	}
	if !strings.Contains(table.String(), "Brevo email campaigns") || !strings.Contains(csv.String(), "brevo,total,,,9,") {
		t.Errorf("table:\n%s\ncsv:\n%s", table.String(), csv.String())
	}
}
