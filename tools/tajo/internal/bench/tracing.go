package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/telemetry"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// TracingResult is the tracing line: the same full sync, each time on a
// fresh sandbox and a fresh embedded server, with tracing off (no OTEL_*
// set) and on (every span sampled and exported over OTLP/HTTP to a
// receiver in the sandbox child), alternated over rounds. The best time of
// each stands for it: on a shared machine the noise only ever adds time.
type TracingResult struct {
	Users  int             `json:"users"`
	Rounds int             `json:"rounds"`
	Off    []time.Duration `json:"off"` // each round's full sync, tracing off
	On     []time.Duration `json:"on"`  // ... tracing on, the spans' flush included
	// OffCPU and OnCPU are the CPU time the connector's process (every
	// stage, the embedded server, the spans' creation, batching, encoding
	// and export; not the sandbox nor the span receiver, in a child) spent
	// on each of those syncs: less swayed by the machine's other load.
	OffCPU []time.Duration `json:"off_cpu"`
	OnCPU  []time.Duration `json:"on_cpu"`
	// OffAlloc and OnAlloc are the bytes that process allocated over each
	// sync: the same from run to run whatever the machine's load.
	OffAlloc []uint64 `json:"off_alloc"`
	OnAlloc  []uint64 `json:"on_alloc"`
	Spans    int64    `json:"spans"`
	// BadExports are exports the receiver could not decode.
	BadExports int64 `json:"bad_exports"`
}

func best(ds []time.Duration) time.Duration {
	var b time.Duration
	for i, d := range ds {
		if i == 0 || d < b {
			b = d
		}
	}
	return b
}

// Cost is what tracing adds to the sync's time: best on over best off,
// less one.
func (t TracingResult) Cost() float64 {
	off, on := best(t.Off), best(t.On)
	if off <= 0 {
		return 0
	}
	return on.Seconds()/off.Seconds() - 1
}

// AllocCost is what tracing adds to the bytes allocated over the sync:
// least on over least off, less one.
func (t TracingResult) AllocCost() float64 {
	off, on := least(t.OffAlloc), least(t.OnAlloc)
	if off == 0 {
		return 0
	}
	return float64(on)/float64(off) - 1
}

// least is the smallest of v, 0 when empty.
func least(v []uint64) uint64 {
	var m uint64
	for i, x := range v {
		if i == 0 || x < m {
			m = x
		}
	}
	return m
}

// CPUCost is what tracing adds to the sync's CPU time: best on over best
// off, less one.
func (t TracingResult) CPUCost() float64 {
	off, on := best(t.OffCPU), best(t.OnCPU)
	if off <= 0 {
		return 0
	}
	return on.Seconds()/off.Seconds() - 1
}

// tracingEnv is what the traced syncs export with, unless the environment
// already sets it: every span sampled, to the receiver, batched as tajo
// batches by default (telemetry's batchDefaults keep every span of a bulk
// sync).
func tracingEnv(endpoint string) map[string]string {
	return map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
		"OTEL_TRACES_SAMPLER":         "always_on",
	}
}

// runTracing measures the tracing line.
func runTracing(ctx context.Context, o Options) (*TracingResult, []string, error) {
	// Tracing off means no OTEL_* at all, as a user who set none.
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		if v, ok := os.LookupEnv(k); ok {
			defer os.Setenv(k, v)
			os.Unsetenv(k)
		}
	}
	defer collectorAsRun()()
	res := &TracingResult{Users: o.TracingUsers, Rounds: o.TracingRounds}
	var problems []string
	for r := range o.TracingRounds {
		// Alternate which goes first: a drift of the machine's load then
		// falls on both.
		modes := []bool{false, true}
		if r%2 == 1 {
			modes = []bool{true, false}
		}
		for _, on := range modes {
			fmt.Fprintf(o.Log, "tracing: round %d, %d users, tracing %s...\n", r+1, o.TracingUsers, map[bool]string{false: "off", true: "on"}[on])
			x, err := tracedSync(ctx, o, r, on)
			if err != nil {
				return nil, nil, err
			}
			d, cpu, sum, got := x.time, x.cpu, x.sum, x.got
			if !sum.OK() || sum.Exported != int64(o.TracingUsers) {
				problems = append(problems, fmt.Sprintf("tracing: the round %d sync (tracing on: %v) did not complete: %s", r+1, on, outcome(sum)))
			}
			res.Spans += got.Spans
			res.BadExports += got.Bad
			if on {
				res.On, res.OnCPU, res.OnAlloc = append(res.On, d), append(res.OnCPU, cpu), append(res.OnAlloc, x.alloc)
				if got.Spans < int64(o.TracingUsers) {
					problems = append(problems, fmt.Sprintf("tracing: the traced sync of %d users exported %d spans: tracing was not on", o.TracingUsers, got.Spans))
				}
			} else {
				res.Off, res.OffCPU, res.OffAlloc = append(res.Off, d), append(res.OffCPU, cpu), append(res.OffAlloc, x.alloc)
				if got.Spans != 0 {
					problems = append(problems, fmt.Sprintf("tracing: the untraced sync exported %d spans", got.Spans))
				}
			}
		}
	}
	if res.BadExports > 0 {
		problems = append(problems, fmt.Sprintf("tracing: %d exports could not be decoded", res.BadExports))
	}
	return res, problems, nil
}

// tracedSync runs one full sync of o.TracingUsers on a fresh sandbox (with
// a span receiver) and embedded server, traced or not, and returns its
// time, this process's CPU time over it (for a traced one, up to its
// spans' flush) and what the receiver got.
// syncSample is one sync of the tracing line.
type syncSample struct {
	time, cpu time.Duration
	alloc     uint64 // bytes allocated
	sum       app.Summary
	got       SpanCounts
}

func tracedSync(ctx context.Context, o Options, round int, on bool) (_ syncSample, err error) {
	var none syncSample
	sb, err := StartSandbox(ctx, o.Self, SandboxOptions{Users: o.TracingUsers, Seed: o.Seed, SpanSink: true})
	if err != nil {
		return none, err
	}
	defer sb.Close()
	ep := sb.Endpoints
	if on {
		for k, v := range tracingEnv(ep.OTLPEndpoint) {
			if _, set := os.LookupEnv(k); set && k != "OTEL_EXPORTER_OTLP_ENDPOINT" {
				continue // the caller's own setting wins
			}
			os.Setenv(k, v)
			defer os.Unsetenv(k)
		}
	}
	tr, err := telemetry.NewTracing(ctx, "bench", "")
	if err != nil {
		return none, err
	}
	if tr.On() != on {
		return none, fmt.Errorf("tracing on is %v, want %v: check the OTEL_* environment", tr.On(), on)
	}
	dir := filepath.Join(o.WorkDir, fmt.Sprintf("tracing-%d-%v", round, on))
	defer os.RemoveAll(dir)
	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		return none, fmt.Errorf("starting the embedded server: %w", err)
	}
	defer ns.Shutdown()
	nc, err := natsx.Connect(ctx, ns.ClientURL(), "bench-tracing")
	if err != nil {
		return none, err
	}
	defer nc.Close()
	runtime.GC()
	a, err := app.New(ctx, app.Options{
		NC:         nc,
		Braze:      braze.Config{BaseURL: ep.BrazeURL, APIKey: ep.BrazeAPIKey},
		Brevo:      brevo.Config{BaseURL: ep.BrevoURL, APIKey: ep.BrevoAPIKey},
		Mapping:    mapping.Options{Fields: mapping.DefaultFieldMapping()},
		Extractor:  extractor.Config{TempDir: dir, Poll: braze.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}},
		Loader:     loader.Config{FirstPoll: 50 * time.Millisecond},
		Resilience: unlimited,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Tracer:     bootstrap.Tracer(tr),
	})
	if err != nil {
		return none, fmt.Errorf("building the pipeline: %w", err)
	}
	if o.TracingProfile != "" && round == o.TracingRounds-1 {
		f, err := os.Create(o.TracingProfile + map[bool]string{false: ".off", true: ".on"}[on])
		if err != nil {
			return none, fmt.Errorf("writing the tracing CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return none, fmt.Errorf("starting the tracing CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
		// The heap profile's allocations are counted from the start: a
		// diff against the other mode's (pprof -base) is this sync's.
		defer func() {
			if f, err := os.Create(o.TracingProfile + map[bool]string{false: ".off", true: ".on"}[on] + ".heap"); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.RunWorkers(wctx) }()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start, cpu := time.Now(), processCPU()
	sum, err := a.Sync(ctx, "full", nil)
	stop()
	<-done
	if err != nil {
		return none, fmt.Errorf("the full sync: %w", err)
	}
	// The spans still buffered are part of tracing's cost.
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := tr.Shutdown(sctx); err != nil {
		return none, err
	}
	d, c := time.Since(start), processCPU()-cpu
	runtime.ReadMemStats(&m1)
	fmt.Fprintf(o.Log, "tracing:   %.2f s, CPU %.2f s, %.0f MB in %.1fM allocations, %d GC cycles\n", d.Seconds(), c.Seconds(),
		float64(m1.TotalAlloc-m0.TotalAlloc)/(1<<20), float64(m1.Mallocs-m0.Mallocs)/1e6, m1.NumGC-m0.NumGC)
	got, err := ep.SpanCounts(ctx)
	if err != nil {
		return none, fmt.Errorf("reading the span receiver's counts: %w", err)
	}
	return syncSample{time: d, cpu: c, alloc: m1.TotalAlloc - m0.TotalAlloc, sum: sum, got: got}, nil
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
