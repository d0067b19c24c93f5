package app_test

import (
	"context"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/analytics"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/tools/sandbox"
	brazesim "github.com/tajo-sync/tajo/tools/sandbox/braze"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// expectedFigures sums what the Braze simulator serves for (kind, id)
// over the days from..to, by the report's rules (written here from the
// README, not from pkg/analytics): email counts sent, delivered, unique
// opens and clicks and unsubscribes; push counts sent, sent less bounces
// as delivered, direct opens and body clicks; conversions and revenue
// come from the day (a Canvas's from its totals, its messages from its
// steps).
func expectedFigures(sb *sandbox.Sandbox, kind, id string, from, to time.Time) analytics.Figures {
	var f analytics.Figures
	num := func(m map[string]any, k string) float64 {
		switch v := m[k].(type) {
		case int64:
			return float64(v)
		case float64:
			return v
		case int:
			return float64(v)
		}
		return 0
	}
	addMessages := func(msgs map[string]any) {
		for ch, list := range msgs {
			for _, s := range list.([]any) {
				st := s.(map[string]any)
				f.Sent += int64(num(st, "sent"))
				f.Bounces += int64(num(st, "bounces"))
				if ch == "email" {
					f.Delivered += int64(num(st, "delivered"))
					f.Opens += int64(num(st, "unique_opens"))
					f.Clicks += int64(num(st, "unique_clicks"))
					f.Unsubscribes += int64(num(st, "unsubscribes"))
				} else {
					f.Delivered += int64(num(st, "sent") - num(st, "bounces"))
					f.Opens += int64(num(st, "direct_opens"))
					f.Clicks += int64(num(st, "body_clicks"))
				}
			}
		}
	}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		day := sb.Braze.AnalyticsDay(kind, id, d)
		if kind == brazesim.KindCampaign {
			addMessages(day["messages"].(map[string]any))
			f.Conversions += int64(num(day, "conversions"))
			f.Revenue += num(day, "revenue")
			continue
		}
		total := day["total_stats"].(map[string]any)
		f.Entries += int64(num(total, "entries"))
		f.Conversions += int64(num(total, "conversions"))
		f.Revenue += num(total, "revenue")
		for _, st := range day["step_stats"].(map[string]any) {
			addMessages(st.(map[string]any)["messages"].(map[string]any))
		}
	}
	return f
}

func sameFigures(a, b analytics.Figures) bool {
	rev := math.Abs(a.Revenue-b.Revenue) < 0.005
	a.Revenue, b.Revenue = 0, 0
	return a == b && rev
}

type analyticsEnv struct {
	sb    *sandbox.Sandbox
	app   *app.App
	store *analytics.Store
	ropt  app.ResourcesOptions
}

func startAnalytics(t *testing.T, since time.Time) *analyticsEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sb := startSandbox(t, ctx, sandbox.Options{Users: 10, Seed: 42, RateLimits: true})
	nc, _ := natsxtest.Conn(t, natsxtest.Server(t))
	log := testLogger(t, slog.LevelInfo)
	bzc, bvc := vendorConfigs(sb)
	a, err := app.New(ctx, app.Options{NC: nc, Braze: bzc, Brevo: bvc, Mapping: mapping.Options{Fields: mapping.DefaultFieldMapping()}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	store, err := analytics.Open(ctx, a.JS)
	if err != nil {
		t.Fatal(err)
	}
	return &analyticsEnv{sb: sb, app: a, store: store, ropt: app.ResourcesOptions{Braze: bzc, Brevo: bvc, Once: true, Logger: log,
		Analytics: &extractor.AnalyticsConfig{Campaigns: true, Canvases: true, BrevoStatistics: true, Since: since, TrailingDays: 7}}}
}

func (e *analyticsEnv) sync(t *testing.T) []*proto.SyncRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var runs []*proto.SyncRun
	o := e.ropt
	o.Finished = func(r *proto.SyncRun) { runs = append(runs, r) }
	if err := e.app.RunResources(ctx, o); err != nil {
		t.Fatalf("analytics read: %v", err)
	}
	for _, r := range runs {
		if r.Status != proto.RunCompleted {
			t.Fatalf("%s run %s: %s %s", r.Resource, r.ID, r.Status, r.Error)
		}
	}
	return runs
}

// checkReport builds the report of since..today and checks every row and
// the totals against the simulators' own figures.
func (e *analyticsEnv) checkReport(t *testing.T, since, today time.Time) analytics.Report {
	t.Helper()
	rep, err := analytics.Build(context.Background(), e.store, since, today)
	if err != nil {
		t.Fatal(err)
	}
	campaigns, canvases := e.sb.Braze.Tracked()
	if rep.Tracked != len(campaigns)+len(canvases) {
		t.Errorf("report tracks %d, the workspace has %d campaigns and %d Canvases", rep.Tracked, len(campaigns), len(canvases))
	}
	byID := map[string]analytics.Row{}
	for _, r := range rep.Rows {
		byID[r.Kind+"/"+r.ID] = r
	}
	var total analytics.Figures
	for kind, ids := range map[string][]string{brazesim.KindCampaign: campaigns, brazesim.KindCanvas: canvases} {
		for _, id := range ids {
			want := expectedFigures(e.sb, kind, id, since, today)
			total.Add(want)
			if got := byID[kind+"/"+id]; !sameFigures(got.Figures, want) {
				t.Errorf("%s %s (%s): report %+v, Braze %+v", kind, id, got.Name, got.Figures, want)
			}
		}
	}
	if !sameFigures(rep.Totals[analytics.SourceBraze], total) {
		t.Errorf("Braze totals: report %+v, simulator %+v", rep.Totals[analytics.SourceBraze], total)
	}
	var brevoTotal analytics.Figures
	n := 0
	for _, c := range e.sb.Brevo.EmailCampaigns() {
		sent, err := time.Parse(time.RFC3339, c.SentDate)
		if c.Status != "sent" || err != nil || sent.Before(since) {
			continue
		}
		n++
		s := c.Stats
		brevoTotal.Add(analytics.Figures{Sent: s.Sent, Delivered: s.Delivered, Opens: s.UniqueViews, Clicks: s.UniqueClicks,
			Unsubscribes: s.Unsubscriptions, Bounces: s.SoftBounces + s.HardBounces})
	}
	if got := rep.Totals[analytics.SourceBrevo]; n == 0 || got != brevoTotal {
		t.Errorf("Brevo totals over %d campaigns: report %+v, simulator %+v", n, got, brevoTotal)
	}
	return rep
}

// TestAnalytics: campaigns and Canvases (steps and variants included) are
// read from the first backfill day to today; the report's figures equal
// the simulator's, per campaign and in total, beside Brevo's; a day Braze
// restates is replaced on the next read, not added; an edited campaign's
// details are read again, the others' not.
func TestAnalytics(t *testing.T) {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	since := today.AddDate(0, 0, -20)
	e := startAnalytics(t, since)
	runs := e.sync(t)
	if len(runs) != 2 || runs[0].Resource != proto.ResourceCampaigns || runs[1].Resource != proto.ResourceCanvases {
		t.Fatalf("runs %v", runs)
	}
	rep := e.checkReport(t, since, today)
	if rep.Tracked != 15 {
		t.Errorf("%d tracked, want 15 (12 campaigns, 3 Canvases)", rep.Tracked)
	}
	ctx := context.Background()
	campaigns, canvases := e.sb.Braze.Tracked()
	cv, ok, err := e.store.GetDay(ctx, analytics.KindCanvas, canvases[0], today.AddDate(0, 0, -1).Format(time.DateOnly))
	if err != nil || !ok || len(cv.Steps) != 3 || len(cv.Variants) != 2 {
		t.Errorf("a Canvas day: %+v (%v, %v); want 3 steps and 2 variants", cv, ok, err)
	}
	days := countDays(t, e)
	details := e.sb.Braze.Requests()["GET /campaigns/details 200"]

	// Braze restates a recent day of a campaign: the next read replaces it.
	restated := today.AddDate(0, 0, -2)
	before, _, _ := e.store.GetDay(ctx, analytics.KindCampaign, campaigns[0], restated.Format(time.DateOnly))
	if err := e.sb.Braze.Restate(brazesim.KindCampaign, campaigns[0], restated); err != nil {
		t.Fatal(err)
	}
	e.sync(t)
	after, _, _ := e.store.GetDay(ctx, analytics.KindCampaign, campaigns[0], restated.Format(time.DateOnly))
	want := expectedFigures(e.sb, brazesim.KindCampaign, campaigns[0], restated, restated)
	if sameFigures(before.Figures, after.Figures) || !sameFigures(after.Figures, want) {
		t.Errorf("restated day: before %+v, after %+v, Braze now %+v", before.Figures, after.Figures, want)
	}
	if got := countDays(t, e); got != days {
		t.Errorf("%d days stored after a re-read, %d before: a re-read must replace, not add", got, days)
	}
	e.checkReport(t, since, today)
	if got := e.sb.Braze.Requests()["GET /campaigns/details 200"]; got != details {
		t.Errorf("%d campaign details read again with nothing edited", got-details)
	}

	// An edited campaign's details are read again, under its new name.
	if err := e.sb.Braze.Rename(brazesim.KindCampaign, campaigns[3], "Renamed campaign"); err != nil {
		t.Fatal(err)
	}
	e.sync(t)
	if got := e.sb.Braze.Requests()["GET /campaigns/details 200"]; got != details+1 {
		t.Errorf("%d campaign details read after one edit, want 1", got-details)
	}
	rep = e.checkReport(t, since, today)
	found := false
	for _, r := range rep.Rows {
		found = found || r.ID == campaigns[3] && r.Name == "Renamed campaign"
	}
	if !found {
		t.Error("the report does not show the edited campaign's new name")
	}
}

// countDays counts the (id, day) records stored.
func countDays(t *testing.T, e *analyticsEnv) int {
	t.Helper()
	rep, err := analytics.Build(context.Background(), e.store, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rep.Rows {
		n += r.Days
	}
	return n
}
