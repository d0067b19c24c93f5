package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/tools/tajo/internal/chaos"
	"github.com/tajo-sync/tajo/tools/tajo/internal/stack"
)

// TestMain lets this test binary serve as the sandbox child, as tajo-bench
// does: StartSandbox runs os.Executable() with -sandbox-child.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "-"+SandboxChildFlag {
		if err := serveChild(os.Args[2]); err != nil {
			os.Stderr.WriteString("sandbox child: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBenchSmoke runs every phase at a few thousand users: the harness
// itself, against the real sandbox, an embedded and an external
// nats-server and the service binaries. It takes a minute or more on a
// busy machine, so it runs only with BENCH_SMOKE=1 (make bench-smoke).
func TestBenchSmoke(t *testing.T) {
	if os.Getenv("BENCH_SMOKE") != "1" {
		t.Skip("set BENCH_SMOKE=1 to run the bench harness at 3,000 users (about a minute)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	natsBin, err := filepath.Abs(filepath.Join("..", "..", "..", "..", "bin", "nats-server"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(natsBin); err != nil {
		if natsBin, err = chaos.BuildNATSServer(ctx, dir); err != nil {
			t.Fatal(err)
		}
	}
	const users = 3000
	var log bytes.Buffer
	rep, err := Run(ctx, Options{Users: users, Self: self, WorkDir: dir, ShapeUsers: users, LimitsUsers: 1000,
		NATSServer: natsBin, Log: &log, Events: 2000, TracingUsers: 1000, TracingRounds: 1, ShapeProfiles: filepath.Join(dir, "profiles")})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	var out bytes.Buffer
	rep.Print(&out)
	t.Logf("\n%s", out.String())
	if len(rep.Problems) > 0 {
		t.Fatalf("problems: %q", rep.Problems)
	}
	if rep.Summary.Exported != users || rep.PipelineRate <= 0 || rep.BaselineRate <= 0 || rep.PeakRSS <= 0 {
		t.Errorf("all-in-one: %+v", rep)
	}
	if len(rep.Incrementals) != 2 || rep.Incrementals[0].Changed != users/100 || len(rep.Store) != 3 {
		t.Errorf("incrementals %+v, store samples %d: want 2 of %d users changed, 3 samples", rep.Incrementals, len(rep.Store), users/100)
	}
	for _, p := range Processes() {
		if rep.Shape.PeakRSS[p] < 1<<20 {
			t.Errorf("production shape: peak RSS of %s %d bytes", p, rep.Shape.PeakRSS[p])
		}
	}
	for _, p := range stack.Services {
		if fi, err := os.Stat(filepath.Join(dir, "profiles", "shape-"+p+".heap.pb.gz")); err != nil || fi.Size() == 0 {
			t.Errorf("no heap profile of the %s in the production shape: %v", p, err)
		}
	}
	// Each import's end is learned from Brevo's notification through the
	// gateway, or by polling when none came: either way, one at least.
	if l := rep.Limits; l == nil || l.Imports == 0 || l.Polls+l.Notified == 0 || l.ImportTime <= 0 || l.ImportTimeRatio() < 1 {
		t.Errorf("vendor limits: %+v", l)
	}
	if e := rep.Events; e == nil || e.Written != 2000 || e.Rate <= 0 || e.BaselineRate <= 0 || e.CPU <= 0 || e.BaselineCPU <= 0 {
		t.Errorf("events line: %+v", e)
	}
	if tr := rep.Tracing; tr == nil || len(tr.On) != 1 || len(tr.Off) != 1 || tr.Spans < 1000 || tr.OnCPU[0] <= 0 || tr.OnAlloc[0] <= tr.OffAlloc[0] {
		t.Errorf("tracing line: %+v", tr)
	}
	for _, line := range []string{`(?m)^ratio: `, `(?m)^peak_rss_mb: `, `(?m)^peak_rss_mb\.loader: `, `(?m)^incremental_writes: \d+  #`,
		`(?m)^store_bytes_per_user: `, `(?m)^vendor_limits_ratio: `, `(?m)^events_ratio: `, `(?m)^events_cpu_us: \d+ per event`, `(?m)^tracing_cost: `, `(?m)^tracing_cpu_cost: `, `(?m)^tracing_alloc_cost: `} {
		if !regexp.MustCompile(line).MatchString(out.String()) {
			t.Errorf("no line matching %s", line)
		}
	}
}
