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
	"syscall"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox/faults"
	"github.com/tajo-sync/tajo/tools/tajo/internal/chaos"
)

func main() {
	o := chaos.Options{Log: os.Stdout}
	spec := flag.String("faults", chaos.DefaultFaults, "fault mix injected into both simulators")
	flag.IntVar(&o.Users, "users", 100_000, "Braze users to sync")
	flag.Int64Var(&o.Seed, "seed", 1, "seed of the users, the faults and the chaos moments")
	flag.IntVar(&o.Kills, "kills", 2, "SIGKILLs (each followed by a restart) per worker kind")
	flag.IntVar(&o.NATSRestarts, "nats-restarts", 1, "restarts of nats-server on its file store")
	flag.StringVar(&o.NATSServer, "nats-server", "", "nats-server binary (default: build the pinned version)")
	flag.StringVar(&o.WorkDir, "workdir", "", "where binaries, stores and worker logs go (default: a temporary directory, removed on success)")
	flag.IntVar(&o.BatchSize, "batch-size", 0, "pipeline.batch_size of both runs (0: the default, 5,000)")
	flag.DurationVar(&o.Timeout, "timeout", 30*time.Minute, "longest wait for each of the two syncs")
	flag.Parse()
	var err error
	if o.Faults, err = faults.Parse(*spec); err != nil {
		fmt.Fprintln(os.Stderr, "tajo-chaos: --faults:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := chaos.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tajo-chaos:", err)
		os.Exit(1)
	}
	rep.Print(os.Stdout)
	if !rep.OK() {
		os.Exit(1)
	}
}
