package extractor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/analytics"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// AnalyticsLease names the lease the replica reading analytics holds.
const AnalyticsLease = "extractor.analytics"

// AnalyticsBraze is what the analytics sync needs from a Braze client.
type AnalyticsBraze interface {
	ListCampaigns(ctx context.Context, q braze.ListQuery) ([]braze.Listed, error)
	ListCanvases(ctx context.Context, q braze.ListQuery) ([]braze.Listed, error)
	CampaignDetails(ctx context.Context, id string) (braze.CampaignDetails, error)
	CanvasDetails(ctx context.Context, id string) (braze.CanvasDetails, error)
	CampaignDataSeries(ctx context.Context, id string, endingAt time.Time, length int) ([]braze.CampaignDay, error)
	CanvasDataSeries(ctx context.Context, id string, endingAt time.Time, length int) ([]braze.CanvasDay, error)
}

// AnalyticsBrevo is what reading Brevo's email campaign statistics needs.
type AnalyticsBrevo interface {
	EmailCampaigns(ctx context.Context, offset, limit int) ([]brevo.EmailCampaign, int64, error)
}

var (
	_ AnalyticsBraze = (*braze.Client)(nil)
	_ AnalyticsBrevo = (*brevo.Client)(nil)
)

// AnalyticsConfig tunes the analytics sync.
type AnalyticsConfig struct {
	// Campaigns and Canvases say what is read
	// (connectors.braze.sync.campaigns, .canvases).
	Campaigns, Canvases bool
	// Since is the first day a first backfill reads; zero:
	// DefaultBackfillDays before the first run.
	Since time.Time
	// TrailingDays are re-read at every run (Braze restates recent days);
	// default 7.
	TrailingDays int
	// BrevoStatistics reads Brevo's email campaign statistics with the
	// campaigns (connectors.brevo.campaign_statistics).
	BrevoStatistics bool
	// Interval between scheduled reads (Run); default 1h.
	Interval time.Duration
	// Retry retries each vendor call on a retryable failure.
	Retry    resilience.Policy
	LeaseTTL time.Duration // default DefaultLeaseTTL
	Logger   *slog.Logger
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// DefaultBackfillDays is how far back a first read goes without Since.
const DefaultBackfillDays = 30

// Analytics reads campaign and Canvas analytics into the analytics bucket
// (pkg/analytics): the campaigns and Canvases edited since the last read
// (their details), then the daily series of each one tracked, from the
// trailing window before the last day read (Braze restates recent days)
// to today, each day replacing what was stored for it.
type Analytics struct {
	cfg   AnalyticsConfig
	bz    AnalyticsBraze
	bv    AnalyticsBrevo
	st    *state.Store
	store *analytics.Store
	log   *slog.Logger

	mu      sync.Mutex
	running bool
}

// NewAnalytics builds the analytics sync; bv may be nil unless
// BrevoStatistics is set.
func NewAnalytics(ctx context.Context, js jetstream.JetStream, bz AnalyticsBraze, bv AnalyticsBrevo, st *state.Store, cfg AnalyticsConfig) (*Analytics, error) {
	if js == nil || bz == nil || st == nil {
		return nil, errors.New("extractor analytics: JetStream, a Braze client and the state store are required")
	}
	if cfg.BrevoStatistics && bv == nil {
		return nil, errors.New("extractor analytics: reading Brevo's campaign statistics needs a Brevo client (BREVO_API_KEY)")
	}
	if cfg.TrailingDays <= 0 {
		cfg.TrailingDays = 7
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Hour
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	store, err := analytics.Open(ctx, js)
	if err != nil {
		return nil, fmt.Errorf("extractor analytics: %w", err)
	}
	return &Analytics{cfg: cfg, bz: bz, bv: bv, st: st, store: store,
		log: cfg.Logger.With("service", proto.StageExtractor, "resource", "analytics")}, nil
}

// Run reads analytics at once and then every Interval while this replica
// holds AnalyticsLease, until ctx is done; finished, when set, is told of
// every run that ends.
func (a *Analytics) Run(ctx context.Context, holder string, finished func(*proto.SyncRun)) error {
	return leased(ctx, a.st, AnalyticsLease, holder+"/"+strconv.FormatInt(time.Now().UnixNano(), 36), a.cfg.LeaseTTL, a.cfg.Interval, a.log,
		func(ctx context.Context) {
			runs, err := a.Sync(ctx)
			if err != nil && ctx.Err() == nil {
				a.log.Error("analytics read failed", "err", err)
			}
			for _, r := range runs {
				if finished != nil {
					finished(r)
				}
			}
		})
}

// ErrAnalyticsBusy is returned by Sync while a read is in progress.
var ErrAnalyticsBusy = errors.New("an analytics read is already running")

// Sync reads the analytics once: a run per resource switched on
// (campaigns, canvases), recorded in the state bucket.
func (a *Analytics) Sync(ctx context.Context) ([]*proto.SyncRun, error) {
	a.mu.Lock()
	if a.running {
		a.mu.Unlock()
		return nil, ErrAnalyticsBusy
	}
	a.running = true
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.running = false
		a.mu.Unlock()
	}()
	var runs []*proto.SyncRun
	var errs []error
	for _, k := range []struct {
		on       bool
		resource string
		kind     string
	}{{a.cfg.Campaigns, proto.ResourceCampaigns, analytics.KindCampaign}, {a.cfg.Canvases, proto.ResourceCanvases, analytics.KindCanvas}} {
		if !k.on {
			continue
		}
		r, err := a.syncKind(ctx, k.resource, k.kind)
		if r != nil {
			runs = append(runs, r)
		}
		if err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return runs, errors.Join(errs...)
}

// kindRun is one resource's read in progress.
type kindRun struct {
	a    *Analytics
	run  *proto.SyncRun
	kind string
	log  *slog.Logger
	errs []error
}

// syncKind reads one resource and records its run: Exported counts the
// days stored, Malformed the campaigns or Canvases that could not be read.
func (a *Analytics) syncKind(ctx context.Context, resource, kind string) (*proto.SyncRun, error) {
	now := a.cfg.Now()
	run := &proto.SyncRun{V: proto.SchemaVersion, ID: state.NewID(), Resource: resource, Type: "incremental",
		Status: proto.RunRunning, StartedAt: now.UnixMilli(), ExportedAt: now.UnixMilli()}
	if err := a.st.PutRun(ctx, run); err != nil {
		return nil, fmt.Errorf("recording run: %w", err)
	}
	if err := a.st.SetLastRun(ctx, resource, run.ID); err != nil {
		return nil, fmt.Errorf("recording run: %w", err)
	}
	k := &kindRun{a: a, run: run, kind: kind, log: a.log.With("run", run.ID, "kind", kind)}
	err := k.read(ctx)
	if err == nil && kind == analytics.KindCampaign && a.cfg.BrevoStatistics {
		err = k.readBrevo(ctx)
	}
	if err == nil {
		err = errors.Join(k.errs...)
	}
	run.FinishedAt = a.cfg.Now().UnixMilli()
	// Days stored count as updated, what could not be read as refused.
	run.Outcome = &proto.RunOutcome{Updated: run.Exported, Refused: run.Malformed}
	run.Status = proto.RunCompleted
	if err != nil {
		run.Status, run.Error = proto.RunFailed, err.Error()
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if perr := a.st.PutRun(pctx, run); perr != nil && err == nil {
		err = fmt.Errorf("recording run %s: %w", run.ID, perr)
	}
	k.log.Info("analytics read", "days", run.Exported, "failed", run.Malformed, "err", err)
	return run, err
}

func (k *kindRun) read(ctx context.Context) error {
	if err := k.refreshEdited(ctx); err != nil {
		return err
	}
	metas, err := k.a.store.Metas(ctx, k.kind)
	if err != nil {
		return err
	}
	floor, err := k.backfillFloor(ctx)
	if err != nil {
		return err
	}
	today := day(k.a.cfg.Now())
	for _, m := range metas {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := k.readSeries(ctx, m, floor, today); err != nil {
			k.run.Malformed++
			k.errs = append(k.errs, err)
			k.log.Warn("reading the daily statistics", "id", m.ID, "err", err)
		}
	}
	return nil
}

// editedCursor names the state cursor of the last edit time listed.
func (k *kindRun) editedCursor() string { return "analytics." + k.kind + ".edited" }

// refreshEdited lists what was edited since the last read (everything the
// first time), archived included, and stores each one's details.
func (k *kindRun) refreshEdited(ctx context.Context) error {
	var after time.Time
	if c, err := k.a.st.GetCursor(ctx, k.editedCursor()); err != nil {
		return fmt.Errorf("reading the %s edit cursor: %w", k.kind, err)
	} else if c != "" {
		after, _ = time.Parse(time.RFC3339Nano, c)
	}
	latest := after
	for page := 0; ; page++ {
		q := braze.ListQuery{Page: page, EditedAfter: after, IncludeArchived: true}
		var listed []braze.Listed
		err := k.a.cfg.Retry.Do(ctx, func(ctx context.Context) (err error) {
			if k.kind == analytics.KindCampaign {
				listed, err = k.a.bz.ListCampaigns(ctx, q)
			} else {
				listed, err = k.a.bz.ListCanvases(ctx, q)
			}
			return err
		})
		if err != nil {
			return err
		}
		for _, l := range listed {
			if err := k.refresh(ctx, l); err != nil {
				k.run.Malformed++
				k.errs = append(k.errs, err)
				continue
			}
			if t, err := time.Parse(time.RFC3339Nano, l.LastEdited); err == nil && t.After(latest) {
				latest = t
			}
		}
		if len(listed) < braze.ListPageSize {
			break
		}
	}
	if latest.After(after) {
		if err := k.a.st.PutCursor(ctx, k.editedCursor(), latest.UTC().Format(time.RFC3339Nano)); err != nil {
			return fmt.Errorf("recording the %s edit cursor: %w", k.kind, err)
		}
	}
	return nil
}

// refresh stores the details of one listed campaign or Canvas, keeping
// what was read of it.
func (k *kindRun) refresh(ctx context.Context, l braze.Listed) error {
	m, _, err := k.a.store.GetMeta(ctx, k.kind, l.ID)
	if err != nil {
		return err
	}
	m.Kind, m.ID, m.Name, m.LastEdited = k.kind, l.ID, l.Name, l.LastEdited
	err = k.a.cfg.Retry.Do(ctx, func(ctx context.Context) error {
		if k.kind == analytics.KindCampaign {
			d, err := k.a.bz.CampaignDetails(ctx, l.ID)
			if err == nil {
				m.CreatedAt, m.Archived, m.Draft, m.Channels = d.CreatedAt, d.Archived, d.Draft, d.Channels
				m.FirstSent, m.LastSent = dateOnly(d.FirstSent), dateOnly(d.LastSent)
				if d.Name != "" {
					m.Name = d.Name
				}
			}
			return err
		}
		d, err := k.a.bz.CanvasDetails(ctx, l.ID)
		if err == nil {
			m.CreatedAt, m.Archived, m.Draft, m.Channels = d.CreatedAt, d.Archived, d.Draft, d.Channels
			m.FirstSent, m.LastSent = dateOnly(d.FirstEntry), dateOnly(d.LastEntry)
			if d.Name != "" {
				m.Name = d.Name
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	return k.a.store.PutMeta(ctx, m)
}

// backfillFloor is the first day any read may start at: Since, or
// DefaultBackfillDays before the first run (kept, so that later runs do
// not reach further back).
func (k *kindRun) backfillFloor(ctx context.Context) (string, error) {
	if !k.a.cfg.Since.IsZero() {
		return day(k.a.cfg.Since), nil
	}
	name := "analytics." + k.kind + ".floor"
	c, err := k.a.st.GetCursor(ctx, name)
	if err != nil {
		return "", fmt.Errorf("reading the %s backfill floor: %w", k.kind, err)
	}
	if c != "" {
		return c, nil
	}
	floor := day(k.a.cfg.Now().AddDate(0, 0, -DefaultBackfillDays))
	if err := k.a.st.PutCursor(ctx, name, floor); err != nil {
		return "", fmt.Errorf("recording the %s backfill floor: %w", k.kind, err)
	}
	return floor, nil
}

// readSeries reads one campaign's or Canvas's days, from the trailing
// window before the last day read (or its first send, or the backfill
// floor) to today, and stores each day.
func (k *kindRun) readSeries(ctx context.Context, m analytics.Meta, floor, today string) error {
	from := floor
	switch {
	case m.ReadThrough != "":
		from = maxDate(floor, addDays(m.ReadThrough, -(k.a.cfg.TrailingDays-1)))
	case m.FirstSent != "":
		from = maxDate(floor, m.FirstSent)
	}
	to := today
	if m.Archived && m.LastSent != "" && m.ReadThrough > addDays(m.LastSent, k.a.cfg.TrailingDays) {
		// Archived (an edit, so its details are fresh), and read past its
		// last send and the trailing window after it: nothing changes.
		return nil
	}
	if from > to {
		return nil
	}
	span := braze.MaxCampaignSeriesDays
	if k.kind == analytics.KindCanvas {
		span = braze.MaxCanvasSeriesDays
	}
	for start := from; start <= to; start = addDays(start, span) {
		end := minDate(addDays(start, span-1), to)
		endT, _ := time.Parse(time.DateOnly, end)
		length := daysBetween(start, end) + 1
		if err := k.readChunk(ctx, m, endT, length, start, end); err != nil {
			return err
		}
	}
	if m.ReadThrough < today {
		m.ReadThrough = today
		return k.a.store.PutMeta(ctx, m)
	}
	return nil
}

// readChunk reads length days ending on endT and stores those between
// start and end.
func (k *kindRun) readChunk(ctx context.Context, m analytics.Meta, endT time.Time, length int, start, end string) error {
	now := k.a.cfg.Now().UTC()
	var days []analytics.Day
	err := k.a.cfg.Retry.Do(ctx, func(ctx context.Context) error {
		days = days[:0]
		if k.kind == analytics.KindCampaign {
			series, err := k.a.bz.CampaignDataSeries(ctx, m.ID, endT, length)
			for _, d := range series {
				days = append(days, analytics.Day{Kind: k.kind, ID: m.ID, Date: dateOnly(d.Time), Figures: analytics.CampaignDay(d), ReadAt: now})
			}
			return err
		}
		series, err := k.a.bz.CanvasDataSeries(ctx, m.ID, endT, length)
		for _, d := range series {
			f, steps, variants := analytics.CanvasDay(d)
			days = append(days, analytics.Day{Kind: k.kind, ID: m.ID, Date: dateOnly(d.Time), Figures: f, ReadAt: now,
				Steps: steps, Variants: variants})
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, d := range days {
		if d.Date == "" || d.Date < start || d.Date > end {
			continue
		}
		if err := k.a.store.PutDay(ctx, d); err != nil {
			return err
		}
		k.run.Exported++
	}
	return nil
}

// readBrevo stores the statistics of every sent Brevo email campaign.
func (k *kindRun) readBrevo(ctx context.Context) error {
	now := k.a.cfg.Now().UTC()
	for offset := 0; ; offset += brevo.MaxEmailCampaignsPage {
		var page []brevo.EmailCampaign
		var count int64
		err := k.a.cfg.Retry.Do(ctx, func(ctx context.Context) (err error) {
			page, count, err = k.a.bv.EmailCampaigns(ctx, offset, brevo.MaxEmailCampaignsPage)
			return err
		})
		if err != nil {
			return fmt.Errorf("reading Brevo's email campaign statistics: %w", err)
		}
		for _, c := range page {
			s := c.Stats
			err := k.a.store.PutBrevo(ctx, analytics.BrevoCampaign{ID: c.ID, Name: c.Name, Subject: c.Subject, SentDate: c.SentDate, ReadAt: now,
				Figures: analytics.Figures{Sent: s.Sent, Delivered: s.Delivered, Opens: s.UniqueViews, Clicks: s.UniqueClicks,
					Unsubscribes: s.Unsubscriptions, Bounces: s.HardBounces + s.SoftBounces}})
			if err != nil {
				return err
			}
		}
		if len(page) < brevo.MaxEmailCampaignsPage || int64(offset+len(page)) >= count {
			return nil
		}
	}
}

// day is t's date (UTC) as YYYY-MM-DD.
func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// dateOnly is the YYYY-MM-DD of an ISO 8601 date or time ("" otherwise).
func dateOnly(s string) string {
	if len(s) >= 10 {
		if t, err := time.Parse(time.DateOnly, s[:10]); err == nil {
			return t.Format(time.DateOnly)
		}
	}
	return ""
}

func addDays(d string, n int) string {
	t, _ := time.Parse(time.DateOnly, d)
	return t.AddDate(0, 0, n).Format(time.DateOnly)
}

func daysBetween(a, b string) int {
	ta, _ := time.Parse(time.DateOnly, a)
	tb, _ := time.Parse(time.DateOnly, b)
	return int(tb.Sub(ta) / (24 * time.Hour))
}

func maxDate(a, b string) string { return max(a, b) }
func minDate(a, b string) string { return min(a, b) }
