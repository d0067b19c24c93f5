package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/tools/sandbox/gen"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// unlimited lifts every vendor limit, for a sandbox that enforces none.
var unlimited = resilience.Config{Limits: resilience.Limits{
	Braze: resilience.BrazeLimits{UsersTrackPer3s: 1e9, ExportIDsPerMinute: 1e9, IdentityPerMinute: 1e9,
		DataSeriesPerMinute: 1e9, SubscriptionPerMinute: 1e9, EventListsPerHour: 1e9, CatalogSyncPerMinute: 1e9, DefaultPerHour: 1e9},
	Brevo: resilience.BrevoLimits{ContactsPerSecond: 1e9, ContactsPerHour: 1e9, EventsPerSecond: 1e9, ProductsPerSecond: 1e9, OtherPerHour: 1e9},
}}

// Options configure Run.
type Options struct {
	// Users go through the all-in-one phase. Required.
	Users int
	// Seed makes the users. Default 1.
	Seed int64
	// Self is the tajo-bench executable, run again as the sandbox child.
	Self string
	// WorkDir holds the stores, binaries and logs. Required.
	WorkDir string
	// Incrementals after the full sync in the all-in-one phase, each with
	// ChangedPercent of the users changed in Braze first. Default 2.
	Incrementals   int
	ChangedPercent float64 // default 1
	// ShapeUsers go through the production shape (worker processes on an
	// external nats-server); 0 skips it.
	ShapeUsers int
	// NATSServer is the nats-server binary of the production shape and the
	// limits phase.
	NATSServer string
	// NATSMemLimit is the external nats-server's GOMEMLIMIT ("" none), its
	// memory bounded by its configuration, as a deployment's should be: the
	// server keeps the message blocks it reads and writes in memory, and
	// without a limit its collector lets them pile up.
	NATSMemLimit string
	// LimitsUsers go through the production shape with every vendor limit
	// on; 0 skips it.
	LimitsUsers int
	// Log gets progress lines; Verbose adds the pipeline's every second.
	Log     io.Writer
	Verbose bool
	// HeapProfile, when set, is where the all-in-one process's heap profile
	// is written once the full sync has finished.
	HeapProfile string
	// CPUProfile, when set, is where a CPU profile of the all-in-one's
	// full sync (this process, the sync alone) is written.
	CPUProfile string
	// ShapeProfiles, when set, is a directory where each worker of the
	// production-shape phases writes its heap profile (from its
	// /debug/pprof/heap) when half of the users are loaded.
	ShapeProfiles string
	// Events go through the gateway and the events workers after the
	// all-in-one's syncs (the events line); 0 skips it.
	Events int
	// TracingUsers are synced TracingRounds times with tracing off and
	// on (the tracing line); 0 skips it. TracingRounds defaults to 2.
	TracingUsers  int
	TracingRounds int
	// TracingProfile, when set, is where CPU profiles of the tracing
	// line's last round are written: TracingProfile+".off" and ".on".
	TracingProfile string
}

func (o Options) withDefaults() Options {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Incrementals == 0 {
		o.Incrementals = 2
	}
	if o.ChangedPercent == 0 {
		o.ChangedPercent = 1
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.TracingRounds == 0 {
		o.TracingRounds = 2
	}
	return o
}

// Report is one benchmark run: every phase that ran. It is written as JSON
// by `tajo-bench -json` for bench-scale.
type Report struct {
	Users        int           `json:"users"`
	PipelineRate float64       `json:"pipeline_rate"` // users per second, end to end
	PipelineTime time.Duration `json:"pipeline_time"`
	BaselineRate float64       `json:"baseline_rate"` // messages per second through two bare hops
	Summary      app.Summary   `json:"summary"`
	// PeakRSS is the all-in-one process's peak during the full sync (see
	// PeakReset), PeakRSSAll its peak through every sync of the phase.
	PeakRSS    int64 `json:"peak_rss"`
	PeakRSSAll int64 `json:"peak_rss_all"`
	// BaselinePeakRSS is the peak up to the end of the baseline; PeakReset
	// says whether the kernel let the peak start again for the pipeline.
	BaselinePeakRSS int64         `json:"baseline_peak_rss"`
	PeakReset       bool          `json:"peak_reset"`
	Incrementals    []Incremental `json:"incrementals"`
	// Store is the JetStream store after each sync of the all-in-one phase.
	Store  []StoreSample `json:"store"`
	Shape  *ShapeResult  `json:"shape,omitempty"`
	Limits *ShapeResult  `json:"limits,omitempty"`
	// Events is the events line, Tracing the tracing line.
	Events  *EventsResult  `json:"events,omitempty"`
	Tracing *TracingResult `json:"tracing,omitempty"`
	// Problems are the targets' hard checks that failed (incremental writes
	// differing from the users changed, a sync that failed).
	Problems []string `json:"problems,omitempty"`
}

// Incremental is one incremental sync after Changed users were changed in
// Braze.
type Incremental struct {
	Changed int           `json:"changed"`
	Writes  int           `json:"writes"` // contact rows Brevo was asked to write
	Time    time.Duration `json:"time"`
	Summary app.Summary   `json:"summary"`
}

// Ratio is pipeline throughput over baseline throughput.
func (r Report) Ratio() float64 {
	if r.BaselineRate == 0 {
		return 0
	}
	return r.PipelineRate / r.BaselineRate
}

// StoreBytesPerUser is the JetStream store after the last sync over the
// users.
func (r Report) StoreBytesPerUser() float64 {
	if len(r.Store) == 0 || r.Users == 0 {
		return 0
	}
	return float64(r.Store[len(r.Store)-1].Bytes) / float64(r.Users)
}

// Run runs every phase Options ask for. An error is a phase that could not
// be carried out; a target's hard check failing is in Report.Problems.
func Run(ctx context.Context, o Options) (*Report, error) {
	o = o.withDefaults()
	rep := &Report{Users: o.Users}
	if err := allInOne(ctx, o, rep); err != nil {
		return rep, fmt.Errorf("the all-in-one phase: %w", err)
	}
	if o.TracingUsers > 0 {
		res, problems, err := runTracing(ctx, o)
		if err != nil {
			return rep, fmt.Errorf("the tracing phase: %w", err)
		}
		rep.Tracing = res
		rep.Problems = append(rep.Problems, problems...)
	}
	if o.ShapeUsers > 0 {
		fmt.Fprintf(o.Log, "production shape: %d users, worker processes on an external nats-server...\n", o.ShapeUsers)
		res, err := runShape(ctx, o, o.ShapeUsers, false)
		if err != nil {
			return rep, fmt.Errorf("the production-shape phase: %w", err)
		}
		rep.Shape = res
		rep.Problems = append(rep.Problems, res.Problems...)
	}
	if o.LimitsUsers > 0 {
		fmt.Fprintf(o.Log, "vendor limits on: %d users in the production shape...\n", o.LimitsUsers)
		res, err := runShape(ctx, o, o.LimitsUsers, true)
		if err != nil {
			return rep, fmt.Errorf("the vendor-limits phase: %w", err)
		}
		rep.Limits = res
		rep.Problems = append(rep.Problems, res.Problems...)
	}
	return rep, nil
}

// allInOne measures the bare baseline, then a full users sync and the
// incremental ones, every stage in this process on an embedded server.
func allInOne(ctx context.Context, o Options, rep *Report) error {
	sb, err := StartSandbox(ctx, o.Self, SandboxOptions{Users: o.Users, Seed: o.Seed})
	if err != nil {
		return err
	}
	defer sb.Close()
	ep := sb.Endpoints
	dir := filepath.Join(o.WorkDir, "all-in-one")
	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		return fmt.Errorf("starting the embedded server: %w", err)
	}
	defer ns.Shutdown()
	nc, err := natsx.Connect(ctx, ns.ClientURL(), "bench")
	if err != nil {
		return fmt.Errorf("connecting to the embedded server: %w", err)
	}
	defer nc.Close()
	fmt.Fprintf(o.Log, "all-in-one: %d users (sandbox pid %d, rate limits off); baseline first...\n", o.Users, sb.PID())

	g := gen.New(ep.Seed, ep.Users)
	payload := func(i int) []byte {
		b, _ := proto.Encode(&proto.RawUser{V: proto.SchemaVersion, RunID: "baseline", BrazeID: g.BrazeID(i), Line: g.Line(i, 0)})
		return b
	}
	rate, err := Baseline(ctx, nc, ep.Users, payload)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	rep.BaselineRate = rate
	rep.BaselinePeakRSS = PeakRSS()
	// The peak reported is the pipeline's: the baseline's own buffers are
	// not the connector's.
	runtime.GC()
	debug.FreeOSMemory()
	rep.PeakReset = ResetPeakRSS()
	// As `tajo run` does (the bench is the all-in-one process).
	defer collectorAsRun()()

	a, err := app.New(ctx, app.Options{
		NC:        nc,
		Braze:     braze.Config{BaseURL: ep.BrazeURL, APIKey: ep.BrazeAPIKey},
		Brevo:     brevo.Config{BaseURL: ep.BrevoURL, APIKey: ep.BrevoAPIKey},
		Mapping:   mapping.Options{Fields: mapping.DefaultFieldMapping()},
		Extractor: extractor.Config{TempDir: dir, Poll: braze.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}},
		Loader:    loader.Config{FirstPoll: 50 * time.Millisecond},
		// The sandbox runs with its rate limits off: so does the connector's
		// limiter, or it would pace the bench at Brevo's real budget.
		Resilience: unlimited,
		// Warnings and errors only: a failing worker says why.
		Logger: slog.New(slog.NewTextHandler(o.Log, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return fmt.Errorf("building the pipeline: %w", err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	// A sync waits for workers that run: if they stop, so does the wait.
	sctx, stopSyncs := context.WithCancelCause(ctx)
	var workersErr error
	go func() {
		workersErr = a.RunWorkers(wctx)
		stopSyncs(fmt.Errorf("the workers stopped: %v", workersErr))
		close(done)
	}()
	defer func() {
		stop()
		<-done
	}()
	sync := func(runType string) (app.Summary, time.Duration, error) {
		ctx := sctx
		start := time.Now()
		var last time.Time
		sum, err := a.Sync(ctx, runType, func(p app.Progress) {
			if o.Verbose && time.Since(last) >= time.Second {
				last = time.Now()
				fmt.Fprintf(o.Log, "  %5.1fs exported %d transformed %d loaded %d\n", time.Since(start).Seconds(), p.Exported, p.Transformed, p.Loaded)
			}
		})
		if err != nil {
			if cause := context.Cause(sctx); cause != nil && sctx.Err() != nil {
				err = fmt.Errorf("%w (%v)", err, cause)
			}
			return sum, 0, fmt.Errorf("the %s sync: %w", runType, err)
		}
		if !sum.OK() {
			rep.Problems = append(rep.Problems, fmt.Sprintf("the %s sync failed: %d failed, error %q", runType, sum.Failed, sum.Error))
		}
		return sum, time.Since(start), nil
	}

	fmt.Fprintf(o.Log, "all-in-one: full sync...\n")
	stopProfile, err := startCPUProfile(o.CPUProfile)
	if err != nil {
		return err
	}
	rep.Summary, rep.PipelineTime, err = sync("full")
	if perr := stopProfile(); err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	rep.PeakRSS = PeakRSS()
	rep.PipelineRate = float64(o.Users) / rep.PipelineTime.Seconds()
	if o.HeapProfile != "" {
		if err := writeHeapProfile(o.HeapProfile); err != nil {
			return err
		}
	}
	s, err := sampleStore(ctx, a.JS, "full")
	if err != nil {
		return err
	}
	rep.Store = append(rep.Store, s)

	// The users changed are chosen among those the full sync wrote cleanly:
	// a user with a dead or side letter (no identifier, an invalid email
	// written without it, an email another contact holds) is written
	// partly or not at all, whatever changes, so it would blur the count.
	lettered, _, err := deadLettered(ctx, a.JS, "")
	if err != nil {
		return err
	}
	changed := max(1, int(float64(o.Users)*o.ChangedPercent/100))
	for k := 1; k <= o.Incrementals; k++ {
		before, err := ep.BrevoState(ctx)
		if err != nil {
			return err
		}
		redelivered, err := redeliveries(ctx, a.JS)
		if err != nil {
			return err
		}
		picked := pickClean(g, changed, int64(k), lettered)
		ids, err := ep.MutateIndices(ctx, picked)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Log, "all-in-one: incremental sync %d after %d users changed in Braze...\n", k, len(ids))
		inc := Incremental{Changed: len(ids)}
		if inc.Summary, inc.Time, err = sync("incremental"); err != nil {
			return err
		}
		after, err := ep.BrevoState(ctx)
		if err != nil {
			return err
		}
		inc.Writes = Writes(after) - Writes(before)
		if inc.Writes != inc.Changed {
			// Name the changed users this run dead-lettered, if any: the
			// likeliest why.
			dead, unnamed, err := deadLettered(ctx, a.JS, inc.Summary.RunID)
			if err != nil {
				return err
			}
			var why []string
			for _, id := range ids {
				if reason, ok := dead[id]; ok {
					why = append(why, id+" "+reason)
				}
			}
			// Redeliveries are the other likely why of rows written twice.
			now, err := redeliveries(ctx, a.JS)
			if err != nil {
				return err
			}
			rep.Problems = append(rep.Problems, fmt.Sprintf("incremental sync %d wrote %d contact rows to Brevo for %d users changed in Braze (summary: %s; letters of changed users %v, letters naming no user %d; RAW and OPS redeliveries during the sync %d)",
				k, inc.Writes, inc.Changed, outcome(inc.Summary), why, unnamed, now-redelivered))
		}
		rep.Incrementals = append(rep.Incrementals, inc)
		s, err := sampleStore(ctx, a.JS, fmt.Sprintf("incremental %d", k))
		if err != nil {
			return err
		}
		rep.Store = append(rep.Store, s)
	}
	rep.PeakRSSAll = PeakRSS()
	if o.Events > 0 {
		res, problems, err := runEvents(ctx, o, nc, a, ep, sb.PID())
		if err != nil {
			return fmt.Errorf("the events line: %w", err)
		}
		rep.Events = res
		rep.Problems = append(rep.Problems, problems...)
	}
	return nil
}

// startCPUProfile profiles this process's CPU into path until stop ("":
// nothing).
func startCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("writing the CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting the CPU profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing the heap profile: %w", err)
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("writing the heap profile: %w", err)
	}
	return f.Close()
}

// pickClean chooses count users of g from seed, none malformed and none
// whose braze_id is in skip: a walk over the indices with a stride coprime
// to N visits each once.
func pickClean(g *gen.Generator, count int, seed int64, skip map[string]string) []int {
	n := g.N()
	if n == 0 {
		return nil
	}
	start := int((uint64(seed) * 2654435761) % uint64(n))
	step := 104729 % n // a prime
	if step == 0 {
		step = 1
	}
	for gcd(step, n) != 1 {
		step++
	}
	out := make([]int, 0, count)
	for k := 0; k < n && len(out) < count; k++ {
		i := (start + k*step) % n
		if g.Malformed(i, 0) {
			continue
		}
		if _, ok := skip[g.BrazeID(i)]; ok {
			continue
		}
		out = append(out, i)
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// collectorAsRun applies `tajo run`'s collector settings (GOGC and the soft
// memory limit, unless the environment sets them) and returns what
// restores the bench process's own.
func collectorAsRun() (restore func()) {
	limit := debug.SetMemoryLimit(-1)
	gc := debug.SetGCPercent(-1) // reads it (and stops collection for this instant)
	debug.SetGCPercent(gc)
	bootstrap.SetMemoryLimit(bootstrap.MemoryLimitAllInOne)
	return func() {
		debug.SetMemoryLimit(limit)
		debug.SetGCPercent(gc)
	}
}
