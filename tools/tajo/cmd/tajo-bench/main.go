// Command tajo-bench runs N Braze users through the whole pipeline against
// the sandbox (started as a child process, rate limits off) and a bare
// two-hop JetStream baseline on the same embedded server, and prints both,
// their ratio and the connector's peak RSS. `make bench` runs it.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/tools/sandbox"
	"github.com/tajo-sync/tajo/tools/tajo/internal/bench"
)

func main() {
	users := flag.Int("users", envInt("BENCH_USERS", 200000), "users to sync (default $BENCH_USERS or 200000)")
	child := flag.Bool("sandbox-child", false, "internal: serve the sandbox and print its endpoints")
	flag.BoolVar(&bench.Verbose, "v", false, "print the pipeline's progress every second")
	flag.StringVar(&bench.HeapProfile, "memprofile", "", "write a heap profile once the pipeline has finished")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the connector to this file")
	flag.Parse()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	stop = cancel
	var err error
	if *cpuProfile != "" && !*child {
		f, ferr := os.Create(*cpuProfile)
		if ferr != nil {
			fmt.Fprintln(os.Stderr, "tajo-bench:", ferr)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if *child {
		err = serveSandbox(ctx, *users)
	} else {
		err = run(ctx, *users)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "tajo-bench:", err)
		os.Exit(1)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func serveSandbox(ctx context.Context, users int) error {
	sb, err := sandbox.Start(ctx, sandbox.Options{Users: users, Seed: 1, RateLimits: false,
		ExportDelay: 100 * time.Millisecond, StoreExports: true})
	if err != nil {
		return err
	}
	defer sb.Close()
	if err := json.NewEncoder(os.Stdout).Encode(bench.Endpoints{BrazeURL: sb.BrazeURL, BrazeAPIKey: sb.BrazeAPIKey,
		BrevoURL: sb.BrevoURL, BrevoAPIKey: sb.BrevoAPIKey, Users: users, Seed: 1}); err != nil {
		return err
	}
	// Serve until the parent closes our stdin or signals us.
	go func() {
		buf := make([]byte, 1)
		os.Stdin.Read(buf)
		stop()
	}()
	<-ctx.Done()
	return nil
}

var stop = func() {}

func run(ctx context.Context, users int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, self, "-sandbox-child", "-users", strconv.Itoa(users))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the sandbox: %w", err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	var ep bench.Endpoints
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("reading the sandbox's endpoints: %w", err)
	}
	if err := json.Unmarshal(line, &ep); err != nil {
		return fmt.Errorf("reading the sandbox's endpoints: %w", err)
	}

	dir, err := os.MkdirTemp("", "tajo-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: dir})
	if err != nil {
		return err
	}
	defer ns.Shutdown()
	nc, err := natsx.Connect(ctx, ns.ClientURL(), "bench")
	if err != nil {
		return err
	}
	defer nc.Close()
	fmt.Printf("running %d users (sandbox pid %d, rate limits off)\n", users, cmd.Process.Pid)
	res, err := bench.Run(ctx, nc, ep, dir)
	if err != nil {
		return err
	}
	res.Print(os.Stdout)
	return nil
}
