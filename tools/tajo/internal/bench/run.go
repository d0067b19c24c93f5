package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
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

// HeapProfile, when set, is where the heap profile is written once the
// pipeline has finished (before anything is torn down).
var HeapProfile string

// Verbose prints the progress of the pipeline every second.
var Verbose bool

// Endpoints are where the sandbox serves (it runs in another process, so
// its memory is not counted as the connector's).
type Endpoints struct {
	BrazeURL    string `json:"braze_url"`
	BrazeAPIKey string `json:"braze_api_key"`
	BrevoURL    string `json:"brevo_url"`
	BrevoAPIKey string `json:"brevo_api_key"`
	Users       int    `json:"users"`
	Seed        int64  `json:"seed"`
}

// Result is one benchmark run.
type Result struct {
	Users        int
	PipelineRate float64 // users per second, end to end
	PipelineTime time.Duration
	BaselineRate float64 // messages per second through two bare hops
	Summary      app.Summary
	PeakRSS      int64 // during the pipeline run (see PeakReset)
	// BaselinePeakRSS is the peak up to the end of the baseline; PeakReset
	// says whether the kernel let the peak start again for the pipeline.
	BaselinePeakRSS int64
	PeakReset       bool
}

// Ratio is pipeline throughput over baseline throughput.
func (r Result) Ratio() float64 {
	if r.BaselineRate == 0 {
		return 0
	}
	return r.PipelineRate / r.BaselineRate
}

// Print writes the report, one figure a line.
func (r Result) Print(w io.Writer) {
	fmt.Fprintf(w, "users: %d\n", r.Users)
	fmt.Fprintf(w, "pipeline: %.0f users/s (%s end to end; created %d, dead-lettered %d, failed %d)\n",
		r.PipelineRate, r.PipelineTime.Round(time.Millisecond), r.Summary.Created, r.Summary.DeadLettered, r.Summary.Failed)
	fmt.Fprintf(w, "baseline: %.0f msgs/s (bare JetStream, two hops, same messages)\n", r.BaselineRate)
	fmt.Fprintf(w, "ratio: %.2f\n", r.Ratio())
	fmt.Fprintf(w, "peak_rss_mb: %.1f\n", float64(r.PeakRSS)/(1<<20))
	if r.PeakReset {
		fmt.Fprintf(w, "  (the pipeline's peak; the process peaked at %.1f MB during the baseline, measured first)\n", float64(r.BaselinePeakRSS)/(1<<20))
	}
}

// Run measures the bare baseline, then a full users sync, on nc.
func Run(ctx context.Context, nc *nats.Conn, ep Endpoints, tmp string) (Result, error) {
	res := Result{Users: ep.Users}
	g := gen.New(ep.Seed, ep.Users)
	payload := func(i int) []byte {
		b, _ := proto.Encode(&proto.RawUser{V: proto.SchemaVersion, RunID: "baseline", BrazeID: g.BrazeID(i), Line: g.Line(i, 0)})
		return b
	}
	rate, err := Baseline(ctx, nc, ep.Users, payload)
	if err != nil {
		return res, fmt.Errorf("baseline: %w", err)
	}
	res.BaselineRate = rate
	res.BaselinePeakRSS = PeakRSS()
	// The peak reported is the pipeline's: the baseline's own buffers are
	// not the connector's.
	runtime.GC()
	debug.FreeOSMemory()
	res.PeakReset = ResetPeakRSS()

	a, err := app.New(ctx, app.Options{
		NC:        nc,
		Braze:     braze.Config{BaseURL: ep.BrazeURL, APIKey: ep.BrazeAPIKey},
		Brevo:     brevo.Config{BaseURL: ep.BrevoURL, APIKey: ep.BrevoAPIKey},
		Mapping:   mapping.Options{Fields: mapping.DefaultFieldMapping()},
		Extractor: extractor.Config{TempDir: tmp, Poll: braze.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}},
		Loader:    loader.Config{PollPolicy: brevo.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}},
		// The sandbox runs with its rate limits off: so does the connector's
		// limiter, or it would pace the bench at Brevo's real budget.
		Resilience: unlimited,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return res, err
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.RunWorkers(wctx) }()
	defer func() {
		stop()
		<-done
	}()
	start := time.Now()
	var last time.Time
	sum, err := a.Sync(ctx, "full", func(p app.Progress) {
		if Verbose && time.Since(last) >= time.Second {
			last = time.Now()
			fmt.Printf("  %5.1fs exported %d transformed %d loaded %d\n", time.Since(start).Seconds(), p.Exported, p.Transformed, p.Loaded)
		}
	})
	if err != nil {
		return res, fmt.Errorf("pipeline: %w", err)
	}
	res.PipelineTime = time.Since(start)
	if HeapProfile != "" {
		if f, err := os.Create(HeapProfile); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	res.PipelineRate = float64(ep.Users) / res.PipelineTime.Seconds()
	res.Summary = sum
	res.PeakRSS = PeakRSS()
	return res, nil
}
