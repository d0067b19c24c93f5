// Command tajo-chaos runs a full users sync through the worker processes on
// an external nats-server while it injects vendor faults, SIGKILLs each
// worker kind and restarts the server, then compares the result with a
// fault-free run of the same users. It exits 0 only if every check passed.
// `make chaos` installs the pinned nats-server and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox/faults"
	"github.com/tajo-sync/tajo/tools/tajo/internal/chaos"
)

func main() {
	o := chaos.Options{Log: os.Stdout}
	spec := flag.String("faults", chaos.DefaultFaults, "fault mix injected into both simulators")
	flag.IntVar(&o.Users, "users", 100_000, "Braze users to sync")
	flag.Int64Var(&o.Seed, "seed", 1, "seed of the users, the faults and the chaos moments (the first one with --runs)")
	runs := flag.Int("runs", 1, "runs with seeds seed..seed+runs-1; stops at the first failure and keeps its work directory")
	flag.BoolVar(&o.RealisticImports, "realistic-imports", false, "the chaos run's Brevo imports take as long as Brevo's (a base plus a rate per row)")
	flag.IntVar(&o.CPUHog, "cpu-hog", 0, "busy processes beside each run (the timing of a machine shared with other work)")
	flag.IntVar(&o.Kills, "kills", 2, "SIGKILLs (each followed by a restart) per worker kind")
	flag.IntVar(&o.NATSRestarts, "nats-restarts", 1, "restarts of nats-server on its file store")
	flag.StringVar(&o.NATSServer, "nats-server", "", "nats-server binary (default: build the pinned version)")
	flag.StringVar(&o.WorkDir, "workdir", "", "where binaries, stores and worker logs go (default: a temporary directory, removed on success; with --runs, one subdirectory per seed)")
	flag.IntVar(&o.BatchSize, "batch-size", 0, "pipeline.batch_size of both runs (0: the default, 30,000)")
	flag.DurationVar(&o.Timeout, "timeout", 30*time.Minute, "longest wait for each of the two syncs")
	flag.Parse()
	var err error
	if o.Faults, err = faults.Parse(*spec); err != nil {
		fmt.Fprintln(os.Stderr, "tajo-chaos: --faults:", err)
		os.Exit(2)
	}
	if *runs < 1 {
		fmt.Fprintln(os.Stderr, "tajo-chaos: --runs must be 1 or more")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	first, base := o.Seed, o.WorkDir
	var verdicts []string
	for i := range *runs {
		o.Seed = first + int64(i)
		if base != "" && *runs > 1 {
			o.WorkDir = filepath.Join(base, fmt.Sprintf("seed-%d", o.Seed))
		}
		if *runs > 1 {
			fmt.Printf("=== run %d of %d: seed %d ===\n", i+1, *runs, o.Seed)
		}
		rep, err := chaos.Run(ctx, o)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tajo-chaos:", err)
			os.Exit(1)
		}
		rep.Print(os.Stdout)
		verdict := "PASS"
		if !rep.OK() {
			verdict = "FAIL (work directory kept: " + rep.WorkDir + ")"
		}
		verdicts = append(verdicts, fmt.Sprintf("seed %d: %s; %s", o.Seed, verdict, rep.OneLine()))
		if !rep.OK() {
			break
		}
	}
	if *runs > 1 {
		fmt.Println("=== runs ===")
		for _, v := range verdicts {
			fmt.Println(v)
		}
	}
	if len(verdicts) < *runs || strings.Contains(verdicts[len(verdicts)-1], "FAIL") {
		os.Exit(1)
	}
}
