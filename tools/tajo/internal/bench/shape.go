package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
	"github.com/tajo-sync/tajo/tools/tajo/internal/stack"
)

// NATSServerProcess is the name of the server's line among the
// production shape's processes.
const NATSServerProcess = "nats-server"

// ShapeResult is one full sync in the production shape: each worker its own
// process, on an external nats-server.
type ShapeResult struct {
	Users   int           `json:"users"`
	Time    time.Duration `json:"time"`
	Rate    float64       `json:"rate"` // users per second
	Summary app.Summary   `json:"summary"`
	// PeakRSS is each process's peak resident set, by name (the services
	// and NATSServerProcess).
	PeakRSS map[string]int64 `json:"peak_rss"`
	// NATSMemLimit is the server's GOMEMLIMIT ("" none).
	NATSMemLimit string `json:"nats_memlimit,omitempty"`
	// StoreBytes is the server's JetStream store after the sync.
	StoreBytes int64 `json:"store_bytes"`
	// VendorLimits says the sandbox enforced the vendors' rate limits and
	// the realistic import timing (and the workers their default limits).
	VendorLimits bool `json:"vendor_limits"`
	Imports      int  `json:"imports"`
	ImportRows   int  `json:"import_rows"`
	Polls        int  `json:"polls"` // GET /processes calls
	// Notified counts the imports whose notifyUrl the simulator called
	// (answered 2xx by the gateway, which relayed them to the loader).
	Notified int `json:"notified"`
	// ImportFills are the imports' bodies as a share of max_import_bytes,
	// in the order sent (from the loader's log).
	ImportFills []float64 `json:"import_fills,omitempty"`
	Status429   int       `json:"status_429"`
	// ImportTime is the Brevo simulator's processing time: the sum of the
	// import processes' durations.
	ImportTime time.Duration `json:"import_time"`
	Problems   []string      `json:"problems,omitempty"`
}

// ImportTimeRatio is the sync's time over the simulated Brevo processing
// time.
func (r ShapeResult) ImportTimeRatio() float64 {
	if r.ImportTime <= 0 {
		return 0
	}
	return r.Time.Seconds() / r.ImportTime.Seconds()
}

// Processes are the production shape's process names, in report order.
func Processes() []string { return append(append([]string(nil), stack.Services...), NATSServerProcess) }

// runShape syncs users through the service binaries on an external
// nats-server against a sandbox child (vendor limits on or off) and
// measures each process's peak RSS by its PID.
func runShape(ctx context.Context, o Options, users int, limits bool) (res *ShapeResult, err error) {
	name := "shape"
	if limits {
		name = "limits"
	}
	dir := filepath.Join(o.WorkDir, name)
	bins, err := buildServices(ctx, filepath.Join(o.WorkDir, "bin"))
	if err != nil {
		return nil, err
	}
	sb, err := StartSandbox(ctx, o.Self, SandboxOptions{Users: users, Seed: o.Seed, Limits: limits})
	if err != nil {
		return nil, err
	}
	defer sb.Close()
	ep := sb.Endpoints
	ns, err := startNATSServer(ctx, o.NATSServer, filepath.Join(dir, "nats"), o.NATSMemLimit)
	if err != nil {
		return nil, err
	}
	defer func() {
		if serr := ns.Stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	// With the vendors' limits, the gateway runs too, and Brevo's
	// simulator calls it when an import finishes (gateway.public_url): the
	// loader learns it without polling.
	gatewayAddr := ""
	if limits {
		if gatewayAddr, err = freeLoopbackAddr(); err != nil {
			return nil, err
		}
		if bins[stack.Gateway], err = stack.BuildService(ctx, filepath.Join(o.WorkDir, "bin"), stack.Gateway); err != nil {
			return nil, fmt.Errorf("building the gateway: %w", err)
		}
	}
	cfg, err := writeShapeConfig(dir, ep, limits, gatewayAddr)
	if err != nil {
		return nil, err
	}
	sampler := NewSampler(100 * time.Millisecond)
	defer sampler.Peak() // stops the polling on every path
	sampler.Track(NATSServerProcess, ns.proc.PID())
	env := []string{"NATS_URL=" + ns.AuthURL(), "TAJO_CONFIG=" + cfg, "TAJO_HOME=" + dir,
		"BRAZE_API_KEY=" + ep.BrazeAPIKey, "BREVO_API_KEY=" + ep.BrevoAPIKey, "TMPDIR=" + dir}
	var procs []*stack.Proc
	defer func() {
		var errs []error
		for _, p := range procs {
			if serr := p.Stop(30 * time.Second); serr != nil {
				errs = append(errs, fmt.Errorf("%s (pid %d) on SIGTERM: %w\n%s", p.Name, p.PID(), serr, tail(p.Output())))
			}
		}
		if len(errs) > 0 && err == nil {
			err = errors.Join(errs...)
		}
	}()
	services := stack.Services
	if gatewayAddr != "" {
		services = append(slices.Clone(services), stack.Gateway)
		env = append(env, "TAJO_CURRENTS_TOKEN=bench-currents-token")
	}
	// Each worker serves /metrics and its profiles on a port of its own:
	// the defaults could be taken by another process on the machine.
	metricsAddr := map[string]string{}
	for _, s := range services {
		if metricsAddr[s], err = freeLoopbackAddr(); err != nil {
			return nil, err
		}
		p, err := stack.Start(s, bins[s], append(slices.Clone(env), "TAJO_METRICS_LISTEN="+metricsAddr[s]))
		if err != nil {
			return nil, err
		}
		procs = append(procs, p)
		sampler.Track(s, p.PID())
	}
	nc, err := natsx.Connect(ctx, ns.AuthURL(), "tajo-bench")
	if err != nil {
		return nil, fmt.Errorf("connecting to nats-server: %w", err)
	}
	defer nc.Close()
	js, err := natsx.JetStream(nc)
	if err != nil {
		return nil, err
	}
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{}); err != nil {
		return nil, fmt.Errorf("provisioning streams and buckets: %w", err)
	}
	st, err := state.NewStore(ctx, js)
	if err != nil {
		return nil, fmt.Errorf("opening the state bucket: %w", err)
	}

	start := time.Now()
	runID, err := stack.RequestSync(ctx, nc)
	if err != nil {
		return nil, fmt.Errorf("%w\nextractor output:\n%s", err, tail(procs[0].Output()))
	}
	var last time.Time
	var profiled chan error
	sum, err := app.Wait(ctx, js, st, runID, 200*time.Millisecond, func(p app.Progress) {
		if o.ShapeProfiles != "" && profiled == nil && p.Loaded >= int64(users/2) {
			profiled = make(chan error, 1)
			go func() { profiled <- heapProfiles(ctx, o.ShapeProfiles, name, metricsAddr) }()
		}
		if o.Verbose && time.Since(last) >= time.Second {
			last = time.Now()
			fmt.Fprintf(o.Log, "  %5.1fs exported %d transformed %d loaded %d\n", time.Since(start).Seconds(), p.Exported, p.Transformed, p.Loaded)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for the sync: %w", err)
	}
	res = &ShapeResult{Users: users, Time: time.Since(start), Summary: sum, VendorLimits: limits, NATSMemLimit: o.NATSMemLimit}
	if profiled != nil {
		if err := <-profiled; err != nil {
			res.Problems = append(res.Problems, err.Error())
		}
	}
	res.Rate = float64(users) / res.Time.Seconds()
	if !sum.OK() {
		res.Problems = append(res.Problems, fmt.Sprintf("the %s sync failed: %d failed, error %q", name, sum.Failed, sum.Error))
	}
	for _, p := range procs {
		if p.Name == "loader" {
			res.ImportFills = importFills(p.Output())
		}
		if p.Exited() {
			res.Problems = append(res.Problems, fmt.Sprintf("%s (%s phase) exited during the sync: %s", p.Name, name, tail(p.Output())))
		}
	}
	// VmHWM is read while every process still runs.
	if res.PeakRSS, err = sampler.Peak(); err != nil {
		return nil, err
	}
	ai, err := js.AccountInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the JetStream account's store usage: %w", err)
	}
	res.StoreBytes = int64(ai.Store)
	bst, err := ep.BrevoState(ctx)
	if err != nil {
		return nil, err
	}
	res.Imports, res.ImportRows, res.Polls = bst.Imports.Count, bst.Imports.Rows.Rows, Polls(bst)
	res.Notified = bst.Imports.Notified
	res.ImportTime = ep.ImportTime(res.Imports, res.ImportRows)
	bz, err := ep.BrazeStatuses(ctx)
	if err != nil {
		return nil, err
	}
	res.Status429 = bst.Statuses["429"] + bz["429"]
	return res, nil
}

var builtServices map[string]string

// buildServices builds the service binaries into dir once per process.
func buildServices(ctx context.Context, dir string) (map[string]string, error) {
	if builtServices != nil {
		return builtServices, nil
	}
	bins, err := stack.Build(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("building the services: %w", err)
	}
	builtServices = bins
	return bins, nil
}

// writeShapeConfig writes the workers' config file: a users sync on
// request only (the schedule an hour away); without limits, the workers'
// own rate limiters lifted as the sandbox's are; with a gateway address,
// the gateway listening there and Brevo calling it back.
func writeShapeConfig(dir string, ep Endpoints, limits bool, gatewayAddr string) (string, error) {
	cfg := map[string]any{
		"connectors": map[string]any{
			"braze": map[string]any{"instance_url": ep.BrazeURL, "sync": map[string]any{"users": map[string]any{"interval": "1h"}}},
			"brevo": map[string]any{"api_url": ep.BrevoURL},
		},
	}
	if gatewayAddr != "" {
		cfg["gateway"] = map[string]any{"listen": gatewayAddr, "public_url": "http://" + gatewayAddr}
	}
	if !limits {
		cfg["resilience"] = map[string]any{"limits": map[string]any{"braze": unlimited.Limits.Braze, "brevo": unlimited.Limits.Brevo}}
	}
	body, err := yaml.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("writing the workers' config: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("writing the workers' config: %w", err)
	}
	path := filepath.Join(dir, "tajo.yaml")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		return "", fmt.Errorf("writing the workers' config: %w", err)
	}
	return path, nil
}

// fillRe finds the fill of an import in the loader's log, JSON as the
// services write it ({"msg":"importing",...,"fill":"96%"}) or text.
var fillRe = regexp.MustCompile(`(?:"msg":"importing"|msg=importing)[^\n]*?"?fill"?[=:]"?(\d+)%`)

// importFills reads the fill of every import from a loader's log.
func importFills(log string) []float64 {
	var out []float64
	for _, m := range fillRe.FindAllStringSubmatch(log, -1) {
		if f, err := strconv.ParseFloat(m[1], 64); err == nil {
			out = append(out, f/100)
		}
	}
	return out
}

// freeLoopbackAddr is a loopback address with a port free right now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free loopback port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// tail is the end of a process's output, for an error message.
func tail(s string) string {
	s = strings.TrimSpace(s)
	const max = 2000
	if len(s) > max {
		s = "..." + s[len(s)-max:]
	}
	return s
}

// heapProfiles saves each worker's heap profile, read from its
// /debug/pprof/heap, as <dir>/<phase>-<worker>.heap.pb.gz.
func heapProfiles(ctx context.Context, dir, phase string, addrs map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing the workers' heap profiles: %w", err)
	}
	for name, addr := range addrs {
		if err := saveURL(ctx, "http://"+addr+"/debug/pprof/heap", filepath.Join(dir, phase+"-"+name+".heap.pb.gz")); err != nil {
			return fmt.Errorf("the %s's heap profile: %w", name, err)
		}
	}
	return nil
}

func saveURL(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
