// Command tajo-bench measures the users pipeline against the targets of
// issue 10, against the sandbox (a child process) and a bare two-hop
// JetStream baseline on the same server, and prints machine-readable
// "key: value" lines. `make bench` runs it at one size, `make bench-scale`
// at several (-scale), each size in a process of its own, and prints one
// table. Phases:
//
//   - all-in-one: the bare baseline, then a full sync, every stage in this
//     process on an embedded server, then two incremental syncs each after
//     1% of the users changed in Braze;
//   - production shape: each worker its own process on an external
//     nats-server, each process's peak RSS read by its PID;
//   - vendor limits on (-limits): the production shape against the
//     sandbox's rate limits and realistic import timing;
//   - events: Currents events through the gateway and the events workers
//     to the Brevo simulator, against a bare JetStream publish+consume;
//   - tracing: the same full sync with tracing off and on (every span
//     exported to an OTLP/HTTP receiver in this process), alternated.
//
// It exits non-zero when a phase fails or a hard target check does (the
// incremental sync writing other than the users changed).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/tajo-sync/tajo/tools/tajo/internal/bench"
	"github.com/tajo-sync/tajo/tools/tajo/internal/chaos"
)

func main() {
	var (
		o          bench.Options
		scale      = flag.String("scale", os.Getenv("BENCH_SCALE"), "sizes to run one after the other, each in its own process, then print one table (\"100000 1000000 3000000\"; default $BENCH_SCALE)")
		limits     = flag.Bool("limits", os.Getenv("BENCH_LIMITS") == "1", "add the vendor-limits phase (default: $BENCH_LIMITS is 1)")
		jsonOut    = flag.String("json", "", "write the report as JSON to this file")
		child      = flag.String(bench.SandboxChildFlag, "", "internal: serve the sandbox with these options (JSON) and print its endpoints")
		cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of the all-in-one process during its full sync to this file")
		keep       = flag.Bool("keep", false, "keep the work directory (stores, binaries, config)")
	)
	flag.IntVar(&o.Users, "users", envInt("BENCH_USERS", 200000), "users of the all-in-one phase (default $BENCH_USERS or 200000)")
	flag.IntVar(&o.ShapeUsers, "shape-users", envInt("BENCH_SHAPE_USERS", -1), "users of the production-shape phase; 0 skips it (default $BENCH_SHAPE_USERS, else the all-in-one's users up to 100000; -scale: each size)")
	flag.StringVar(&o.NATSMemLimit, "nats-memlimit", envStr("BENCH_NATS_GOMEMLIMIT", "1GiB"), "GOMEMLIMIT of the production shape's nats-server; \"\" none (default $BENCH_NATS_GOMEMLIMIT or 1GiB)")
	flag.IntVar(&o.LimitsUsers, "limits-users", envInt("BENCH_LIMITS_USERS", 1000000), "users of the vendor-limits phase (default $BENCH_LIMITS_USERS or 1,000,000)")
	flag.StringVar(&o.NATSServer, "nats-server", envStr("BENCH_NATS_SERVER", "bin/nats-server"), "nats-server binary of the production shape; built from the pinned module when missing")
	flag.BoolVar(&o.Verbose, "v", false, "print the pipeline's progress every second")
	flag.StringVar(&o.HeapProfile, "memprofile", "", "write a heap profile of the all-in-one process once the full sync has finished")
	flag.StringVar(&o.ShapeProfiles, "shape-profiles", "", "write a heap profile of each production-shape worker, taken when half of the users are loaded, into this directory")
	flag.IntVar(&segmentMembers, "segment-members", envInt("BENCH_SEGMENT_MEMBERS", 1_000_000), "members of the segment membership diff, measured at a quarter of this size and this size before the other phases; 0 skips it (default $BENCH_SEGMENT_MEMBERS or 1000000)")
	flag.IntVar(&o.Events, "events", envInt("BENCH_EVENTS", 20000), "Currents events through the gateway after the all-in-one's syncs (the events line); 0 skips it (default $BENCH_EVENTS or 20000)")
	flag.IntVar(&o.TracingUsers, "tracing-users", envInt("BENCH_TRACING_USERS", -1), "users of the tracing line (a full sync with tracing off and on, alternated); 0 skips it (default $BENCH_TRACING_USERS, else the all-in-one's users up to 20000)")
	flag.IntVar(&o.TracingRounds, "tracing-rounds", envInt("BENCH_TRACING_ROUNDS", 5), "rounds of the tracing line, each one sync off and one on; the best of each counts, so more rounds see through more of a busy machine's noise (default $BENCH_TRACING_ROUNDS or 5)")
	flag.StringVar(&o.TracingProfile, "tracing-cpuprofile", "", "write CPU profiles of the tracing line's last round to this path with .off and .on appended")
	flag.Parse()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	var err error
	switch {
	case *child != "":
		var so bench.SandboxOptions
		if err = json.Unmarshal([]byte(*child), &so); err == nil {
			err = bench.ServeSandbox(ctx, so, os.Stdin, os.Stdout)
		}
	case *scale != "":
		err = runScale(ctx, *scale, o, segmentMembers, *limits)
	default:
		if !*limits {
			o.LimitsUsers = 0
		}
		if o.ShapeUsers < 0 {
			// Kept short: 100,000 is also the size the flatness
			// target starts from (bench-scale runs it at each size).
			o.ShapeUsers = min(o.Users, 100000)
		}
		if o.TracingUsers < 0 {
			// A ratio, measured in one run: a modest size tells it.
			o.TracingUsers = min(o.Users, 20000)
		}
		err = runOnce(ctx, o, *jsonOut, *cpuProfile, *keep)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tajo-bench:", err)
		os.Exit(1)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

func envStr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// errProblems is a run that finished with failed target checks (printed
// with the report).
var errProblems = errors.New("some checks failed (see FAILED above)")

func runOnce(ctx context.Context, o bench.Options, jsonOut, cpuProfile string, keep bool) (err error) {
	if o.Users <= 0 {
		return fmt.Errorf("-users %d: want at least one user", o.Users)
	}
	if o.Self, err = os.Executable(); err != nil {
		return fmt.Errorf("finding the tajo-bench executable: %w", err)
	}
	if o.WorkDir, err = os.MkdirTemp("", "tajo-bench-"); err != nil {
		return fmt.Errorf("creating the work directory: %w", err)
	}
	if keep {
		fmt.Printf("work directory: %s\n", o.WorkDir)
	} else {
		defer os.RemoveAll(o.WorkDir)
	}
	if o.ShapeUsers > 0 || o.LimitsUsers > 0 {
		if o.NATSServer, err = natsServer(ctx, o.NATSServer, o.WorkDir); err != nil {
			return err
		}
	}
	o.CPUProfile = cpuProfile
	o.Log = os.Stdout
	// First, on a heap nothing else has used: its peak is the diff's own.
	diffs, err := segmentDiffs(o.WorkDir)
	if err != nil {
		return err
	}
	rep, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	rep.Print(os.Stdout)
	bench.PrintSegmentDiff(os.Stdout, diffs)
	if jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(jsonOut, b, 0o644); err != nil {
			return fmt.Errorf("writing the JSON report: %w", err)
		}
	}
	if len(rep.Problems) > 0 {
		return errProblems
	}
	return nil
}

// segmentMembers sizes the segment membership diff (0: skipped).
var segmentMembers int

// segmentDiffs measures the membership diff at a quarter of
// segmentMembers and at segmentMembers, with 1% churn: past the sorter's
// run size the peak heap must not grow.
func segmentDiffs(workDir string) ([]bench.SegmentDiffResult, error) {
	if segmentMembers <= 0 {
		return nil, nil
	}
	dir := filepath.Join(workDir, "segment-diff")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var out []bench.SegmentDiffResult
	for _, n := range []int{max(segmentMembers/4, 1), segmentMembers} {
		if len(out) > 0 && out[0].Members == n {
			break
		}
		fmt.Printf("segment membership diff: %d members, 1%% churn...\n", n)
		r, err := bench.SegmentDiff(dir, n, 0.01)
		if err != nil {
			return nil, fmt.Errorf("the segment membership diff of %d members: %w", n, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// natsServer returns bin when it exists, else builds the pinned
// nats-server into dir.
func natsServer(ctx context.Context, bin, dir string) (string, error) {
	if _, err := os.Stat(bin); err == nil {
		return filepath.Abs(bin)
	}
	fmt.Printf("%s not found: building the pinned nats-server (make bench installs it into bin/)\n", bin)
	return chaos.BuildNATSServer(ctx, dir)
}

// scaleArgs are the arguments of the child that runs one size of -scale:
// the options given to -scale that a size's run reads are passed on (the
// shape's profiles into a directory per size); the vendor-limits phase
// and the tracing line are left out.
func scaleArgs(o bench.Options, segmentMembers, n, shape int, out string) []string {
	// -scale= explicitly, and no BENCH_SCALE in its environment: a child
	// that took the sizes from there would run them itself, and its child
	// again, without end.
	args := []string{"-scale=", "-users", strconv.Itoa(n), "-shape-users", strconv.Itoa(shape),
		"-nats-server", o.NATSServer, "-nats-memlimit", o.NATSMemLimit, "-json", out, "-limits=false", "-tracing-users", "0",
		"-events", strconv.Itoa(o.Events), "-segment-members", strconv.Itoa(segmentMembers)}
	if o.ShapeProfiles != "" {
		args = append(args, "-shape-profiles", filepath.Join(o.ShapeProfiles, strconv.Itoa(n)))
	}
	if o.Verbose {
		args = append(args, "-v")
	}
	return args
}

// runScale runs this command once per size, each in its own process so that
// every size's peak RSS is its own, and prints the table after each.
func runScale(ctx context.Context, sizes string, o bench.Options, segmentMembers int, limits bool) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the tajo-bench executable: %w", err)
	}
	dir, err := os.MkdirTemp("", "tajo-bench-scale-")
	if err != nil {
		return fmt.Errorf("creating the work directory: %w", err)
	}
	defer os.RemoveAll(dir)
	var rows []bench.ScaleRow
	failed := false
	for _, f := range strings.Fields(sizes) {
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n <= 0 {
			return fmt.Errorf("BENCH_SCALE %q: %q is not a number of users", sizes, f)
		}
		shape := o.ShapeUsers
		if shape < 0 {
			shape = n
		}
		out := filepath.Join(dir, f+".json")
		args := scaleArgs(o, segmentMembers, n, shape, out)
		fmt.Printf("\n######## bench-scale: %d users ########\n", n)
		cmd := exec.CommandContext(ctx, self, args...)
		cmd.Env = withoutEnv(os.Environ(), "BENCH_SCALE")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		runErr := cmd.Run()
		row := bench.ScaleRow{Report: &bench.Report{Users: n}}
		if b, err := os.ReadFile(out); err == nil {
			if err := json.Unmarshal(b, row.Report); err != nil {
				row.Err = fmt.Errorf("reading the report of %d users: %w", n, err)
			}
		} else {
			row.Err = fmt.Errorf("%d users: %v", n, runErr)
		}
		if runErr != nil {
			failed = true
		}
		rows = append(rows, row)
		fmt.Printf("\nbench-scale so far:\n")
		bench.PrintTable(os.Stdout, rows)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if limits {
		fmt.Printf("\n(BENCH_LIMITS: run `make bench BENCH_LIMITS=1` for the vendor-limits line; bench-scale leaves it out)\n")
	}
	if failed {
		return errors.New("some sizes failed (see above)")
	}
	return nil
}

// withoutEnv is env without the variable name.
func withoutEnv(env []string, name string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
