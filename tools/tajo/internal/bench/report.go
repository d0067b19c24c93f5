package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
	"github.com/tajo-sync/tajo/tools/tajo/internal/stack"
)

const mb = 1 << 20

// Print writes the report: a few machine-readable "key: value" lines per
// phase (ratio:, peak_rss_mb:, incremental_writes:, ...), each with the
// issue's target beside it where it has one, and human lines indented
// under them.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "\n== all-in-one: every stage in one process on an embedded server (tajo run) ==\n")
	fmt.Fprintf(w, "users: %d\n", r.Users)
	fmt.Fprintf(w, "pipeline: %.0f users/s (%s end to end; %s)\n", r.PipelineRate, r.PipelineTime.Round(time.Millisecond), outcome(r.Summary))
	fmt.Fprintf(w, "baseline: %.0f msgs/s (bare JetStream, two hops, same messages, same server)\n", r.BaselineRate)
	fmt.Fprintf(w, "ratio: %.2f  # target >= 0.5\n", r.Ratio())
	fmt.Fprintf(w, "peak_rss_mb: %.1f  # target <= 256 at 1,000,000 users, < 30%% growth from 100,000\n", float64(r.PeakRSS)/mb)
	if r.PeakReset {
		fmt.Fprintf(w, "  (the full sync's peak; the process peaked at %.1f MB during the baseline, measured first", float64(r.BaselinePeakRSS)/mb)
		if r.PeakRSSAll > r.PeakRSS {
			fmt.Fprintf(w, ", and at %.1f MB through the incremental syncs", float64(r.PeakRSSAll)/mb)
		}
		fmt.Fprintf(w, ")\n")
	} else {
		fmt.Fprintf(w, "  (the kernel refused to reset the peak: this is the process's peak, the baseline's included)\n")
	}
	for k, inc := range r.Incrementals {
		fmt.Fprintf(w, "  incremental %d: %d users changed in Braze, %d contact rows written in %s, %.3f of the full sync (%s)\n",
			k+1, inc.Changed, inc.Writes, inc.Time.Round(time.Millisecond), r.incrementalRatio(k), outcome(inc.Summary))
	}
	if len(r.Incrementals) > 0 {
		inc := r.Incrementals[0]
		fmt.Fprintf(w, "incremental_writes: %d  # target: exactly the %d users changed (chosen among those the full sync wrote without a letter)\n", inc.Writes, inc.Changed)
		fmt.Fprintf(w, "incremental_ratio: %.3f  # target <= 0.10 (incremental time over the full sync's)\n", r.incrementalRatio(0))
	}
	if len(r.Store) > 0 {
		syncs := make([]string, len(r.Store))
		for i, s := range r.Store {
			syncs[i] = s.Sync
		}
		fmt.Fprintf(w, "store_bytes_per_user: %.0f  # after %s\n", r.StoreBytesPerUser(), strings.Join(syncs, ", "))
		for _, name := range WorkStreams {
			fmt.Fprintf(w, "work_stream_bytes.%s:", name)
			for _, s := range r.Store {
				fmt.Fprintf(w, " %d", s.Streams[name])
			}
			fmt.Fprintf(w, "  # after each sync; target: no growth from run to run\n")
		}
		printStore(w, r.Store)
		printStored(w, r.Store[0], r.Users)
	}
	if e := r.Events; e != nil {
		fmt.Fprintf(w, "events: %.0f events/s (%d Currents events in batches of %d, %d in flight, each answered once stored: all answered in %s, written to Brevo in %s)\n",
			e.Rate, e.Events, eventsBatch, eventsSenders, e.Accepted.Round(time.Millisecond), e.Time.Round(time.Millisecond))
		fmt.Fprintf(w, "events_baseline: %.0f msgs/s (bare JetStream publish+consume of the same events, same server)\n", e.BaselineRate)
		fmt.Fprintf(w, "events_ratio: %.2f  # target >= 0.3\n", e.Ratio())
		if e.Events > 0 && e.CPU > 0 {
			per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(e.Events) }
			fmt.Fprintf(w, "events_cpu_us: %.0f per event (this process %.0f, the Brevo simulator %.0f), baseline %.0f per message  # CPU time: steadier than rates on a busy machine\n",
				per(e.CPU+e.SandboxCPU), per(e.CPU), per(e.SandboxCPU), per(e.BaselineCPU))
		}
	}
	if t := r.Tracing; t != nil {
		fmt.Fprintf(w, "\n== tracing: the same full sync with OTEL_* unset and set (every span sampled, exported over OTLP/HTTP to a receiver in the sandbox child) ==\n")
		fmt.Fprintf(w, "tracing_users: %d\n", t.Users)
		fmt.Fprintf(w, "tracing_off_s: %s  # each round\n", seconds(t.Off))
		fmt.Fprintf(w, "tracing_on_s: %s  # each round, the spans' flush included; %d spans exported (%.1f per user per sync)\n",
			seconds(t.On), t.Spans, float64(t.Spans)/float64(max(t.Users*len(t.On), 1)))
		fmt.Fprintf(w, "tracing_cost: %.1f%%  # target <= 15%% (sync time: best on over best off, less one)\n", 100*t.Cost())
		fmt.Fprintf(w, "tracing_cpu_cost: %.1f%%  # target <= 15%% (CPU time, best on over best off, less one, of the connector's process: every stage, the embedded server, the spans' creation and export; not the receiver nor the simulators, in a child; off %s s, on %s s): steadier on a busy machine\n",
			100*t.CPUCost(), seconds(t.OffCPU), seconds(t.OnCPU))
		fmt.Fprintf(w, "tracing_alloc_cost: %.1f%%  # bytes the connector's process allocated over the sync, on over off, less one: the same whatever the machine's load (%.0f MB off, %.0f MB on)\n",
			100*t.AllocCost(), float64(least(t.OffAlloc))/(1<<20), float64(least(t.OnAlloc))/(1<<20))
	}
	if r.Shape != nil {
		r.Shape.print(w, r.Users)
	}
	if r.Limits != nil {
		r.Limits.print(w, r.Users)
	}
	if len(r.Problems) > 0 {
		fmt.Fprintf(w, "\nFAILED:\n")
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
}

// seconds lists durations in seconds.
func seconds(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%.2f", d.Seconds())
	}
	return strings.Join(parts, " ")
}

// outcome is a run's summary: the counts that are not zero.
func outcome(s app.Summary) string {
	var parts []string
	for _, c := range []struct {
		name string
		n    int64
	}{{"created", s.Created}, {"updated", s.Updated}, {"unchanged", s.Unchanged}, {"merged", s.Merged},
		{"stale", s.Stale}, {"dead-lettered", s.DeadLettered}, {"missing", s.Missing}, {"failed", s.Failed}} {
		if c.n != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c.name, c.n))
		}
	}
	if s.Error != "" {
		parts = append(parts, fmt.Sprintf("error %q", s.Error))
	}
	return strings.Join(parts, ", ")
}

func (r *Report) incrementalRatio(k int) float64 {
	if r.PipelineTime <= 0 || k >= len(r.Incrementals) {
		return 0
	}
	return r.Incrementals[k].Time.Seconds() / r.PipelineTime.Seconds()
}

// printStore writes every stream's bytes after each sync, one row a stream.
func printStore(w io.Writer, samples []StoreSample) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  stream bytes after\t")
	for _, s := range samples {
		fmt.Fprintf(tw, "%s\t", s.Sync)
	}
	fmt.Fprintln(tw)
	for _, name := range streamNames(samples) {
		fmt.Fprintf(tw, "  %s\t", name)
		for _, s := range samples {
			fmt.Fprintf(tw, "%d\t", s.Streams[name])
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "  account store\t")
	for _, s := range samples {
		fmt.Fprintf(tw, "%d\t", s.Bytes)
	}
	fmt.Fprintln(tw)
	tw.Flush()
}

// printStored writes the messages each stream stored during the first
// sync, per user: the server's writes a user costs (the baseline's: 2).
func printStored(w io.Writer, full StoreSample, users int) {
	if users <= 0 || len(full.Stored) == 0 {
		return
	}
	var total uint64
	var parts []string
	for _, name := range streamNames([]StoreSample{full}) {
		n := full.Stored[name]
		total += n
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %.2f", name, float64(n)/float64(users)))
		}
	}
	fmt.Fprintf(w, "stored_msgs_per_user: %.2f  # in the %s sync, the baseline's 2; %s\n",
		float64(total)/float64(users), full.Sync, strings.Join(parts, ", "))
	if fp, cl := "KV_"+proto.BucketFingerprints, "KV_"+proto.BucketClaims; full.Subjects[fp]+full.Subjects[cl] > 0 {
		fmt.Fprintf(w, "state_shards: fingerprints %d, claims %d  # KV keys after the %s sync: 65,536 each at first, then one per 12-24 entries (shards seal past 24)\n",
			full.Subjects[fp], full.Subjects[cl], full.Sync)
	}
}

func (s *ShapeResult) print(w io.Writer, allInOneUsers int) {
	if s.VendorLimits {
		fmt.Fprintf(w, "\n== vendor limits on: production shape, the sandbox's rate limits and realistic import timing ==\n")
		fmt.Fprintf(w, "vendor_limits: users %d, imports %d (%d rows), GET /processes polls %d, 429s %d, total %s, simulated Brevo processing %s\n",
			s.Users, s.Imports, s.ImportRows, s.Polls, s.Status429, s.Time.Round(time.Second), s.ImportTime.Round(time.Second))
		fmt.Fprintf(w, "vendor_limits_ratio: %.2f  # target <= 1.2 (total time over the simulated Brevo processing time)\n", s.ImportTimeRatio())
		fmt.Fprintf(w, "  (%s; rows per import %.0f; %d imports notified through the gateway)\n",
			outcome(s.Summary), float64(s.ImportRows)/float64(max(s.Imports, 1)), s.Notified)
		if n := len(s.ImportFills); n > 0 {
			under := 0
			for _, f := range s.ImportFills[:n-1] {
				if f < 0.8 {
					under++
				}
			}
			fills := make([]string, n)
			for i, f := range s.ImportFills {
				fills[i] = fmt.Sprintf("%.0f%%", 100*f)
			}
			fmt.Fprintf(w, "vendor_limits_import_fill: %d of %d imports under 80%% of max_import_bytes, the last left out  # target 0 (fills: %s)\n",
				under, n-1, strings.Join(fills, " "))
		}
		for _, p := range append(Processes(), stack.Gateway) {
			if rss, ok := s.PeakRSS[p]; ok {
				fmt.Fprintf(w, "vendor_limits_peak_rss_mb.%s: %.1f\n", p, float64(rss)/mb)
			}
		}
		return
	}
	fmt.Fprintf(w, "\n== production shape: each worker its own process, external nats-server ==\n")
	if s.Users != allInOneUsers {
		fmt.Fprintf(w, "  (%d users here, not the all-in-one's %d: BENCH_SHAPE_USERS)\n", s.Users, allInOneUsers)
	}
	fmt.Fprintf(w, "shape_users: %d\n", s.Users)
	fmt.Fprintf(w, "shape_rate: %.0f  # users/s (%s end to end; %s)\n", s.Rate, s.Time.Round(time.Millisecond), outcome(s.Summary))
	for _, p := range Processes() {
		target := "# target <= 96, flat from 100,000 to 1,000,000 users"
		if p == NATSServerProcess {
			target = "# bounded by its configuration, not by the user count (GOMEMLIMIT none)"
			if s.NATSMemLimit != "" {
				target = "# bounded by its configuration (GOMEMLIMIT " + s.NATSMemLimit + "), not by the user count"
			}
		}
		fmt.Fprintf(w, "peak_rss_mb.%s: %.1f  %s\n", p, float64(s.PeakRSS[p])/mb, target)
	}
	fmt.Fprintf(w, "shape_store_bytes_per_user: %.0f  # after the full sync\n", float64(s.StoreBytes)/float64(max(s.Users, 1)))
}

// ScaleRow is one size of `make bench-scale`.
type ScaleRow struct {
	Report *Report
	Err    error // the size could not be measured
}

// PrintTable writes one row per size: the all-in-one rate, ratio, peak RSS
// and store bytes per user, the incremental ratio, the production shape's
// rate and peak RSS per process, and whether the hard checks passed.
func PrintTable(w io.Writer, rows []ScaleRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"users", "users/s", "ratio", "peak MB", "store B/user", "incr ratio", "shape users/s"}
	for _, p := range Processes() {
		head = append(head, p+" MB")
	}
	head = append(head, "checks")
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, row := range rows {
		r := row.Report
		if row.Err != nil || r == nil {
			users := 0
			if r != nil {
				users = r.Users
			}
			fmt.Fprintf(tw, "%d\tfailed: %v\t\n", users, row.Err)
			continue
		}
		cells := []string{
			fmt.Sprint(r.Users),
			fmt.Sprintf("%.0f", r.PipelineRate),
			fmt.Sprintf("%.2f", r.Ratio()),
			fmt.Sprintf("%.0f", float64(r.PeakRSS)/mb),
			fmt.Sprintf("%.0f", r.StoreBytesPerUser()),
			"-", "-",
		}
		if len(r.Incrementals) > 0 {
			cells[5] = fmt.Sprintf("%.3f", r.incrementalRatio(0))
		}
		if r.Shape != nil {
			cells[6] = fmt.Sprintf("%.0f", r.Shape.Rate)
		}
		for _, p := range Processes() {
			if r.Shape == nil {
				cells = append(cells, "-")
			} else {
				cells = append(cells, fmt.Sprintf("%.0f", float64(r.Shape.PeakRSS[p])/mb))
			}
		}
		if len(r.Problems) > 0 {
			cells = append(cells, fmt.Sprintf("%d failed", len(r.Problems)))
		} else {
			cells = append(cells, "ok")
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	tw.Flush()
}
