package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/tools/sandbox/faults"
	"github.com/tajo-sync/tajo/tools/sandbox/gen"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
	"github.com/tajo-sync/tajo/tools/tajo/internal/stack"
)

// Run performs the chaos run, then the reference run, and compares them.
// The error is for a run that could not be carried out (a build failing, a
// port taken); what the comparison finds is in Report.Problems.
func Run(ctx context.Context, o Options) (*Report, error) {
	o = o.withDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	began := time.Now()
	dir, cleanup, err := workDir(o.WorkDir)
	if err != nil {
		return nil, err
	}
	rep := &Report{Users: o.Users, Seed: o.Seed, Faults: o.Faults.String(), WorkDir: dir, CPUHog: o.CPUHog,
		PlannedKills: o.Kills * len(stack.Services), PlannedRestarts: o.NATSRestarts}
	defer func() {
		if rep.OK() {
			cleanup()
		}
	}()

	if o.CPUHog > 0 {
		stop, err := startCPUHogs(ctx, o.CPUHog)
		if err != nil {
			return nil, err
		}
		defer stop()
		fmt.Fprintf(o.Log, "%d busy processes run beside the syncs (--cpu-hog)\n", o.CPUHog)
	}

	bins, err := stack.Build(ctx, filepath.Join(dir, "bin"))
	if err != nil {
		return nil, fmt.Errorf("building the services: %w", err)
	}
	natsBin := o.NATSServer
	if natsBin == "" {
		if natsBin, err = BuildNATSServer(ctx, filepath.Join(dir, "bin")); err != nil {
			return nil, err
		}
	}

	chaos, err := runChaos(ctx, o, bins, natsBin, dir)
	if err != nil {
		return nil, err
	}
	rep.addChaos(chaos)
	if chaos.snap == nil {
		rep.Wall = time.Since(began)
		return rep, nil
	}
	fmt.Fprintf(o.Log, "chaos run done in %s; reference run (no faults, one process)...\n", chaos.duration.Round(time.Second))
	ref, err := runReference(ctx, o, dir)
	if err != nil {
		return nil, err
	}
	rep.RefSummary, rep.RefTime, rep.RefRedeliveries = ref.summary, ref.duration, ref.snap.Redeliveries

	gr, err := groupsFor(dir, o)
	if err != nil {
		return nil, err
	}
	rep.SharedEmails, rep.SharedPhones, rep.OrderDependent = len(gr.email), len(gr.sms), gr.orderDependent
	rep.Problems = append(rep.Problems, verify(ref.snap, chaos.snap, gr)...)
	rep.Problems = append(rep.Problems, checkSummaries(chaos.summary, ref.summary)...)
	rep.Writes, rep.RefWrites = chaos.snap.Writes, ref.snap.Writes
	calm := o.Kills == 0 && o.NATSRestarts == 0 && o.Faults == (faults.Spec{})
	for _, w := range []struct {
		name   string
		writes int
		s      app.Summary
		check  bool
	}{{"chaos", chaos.snap.Writes, chaos.summary, calm}} {
		// The production shape (worker processes on an external server) is
		// what the check is about; the reference run's writes are printed
		// beside it.
		// Without kills, restarts or faults nothing excuses writing a
		// contact twice: a batch waiting behind a slow import must not be
		// redelivered and written again.
		if w.check && int64(w.writes) != w.s.Created+w.s.Updated {
			rep.Problems = append(rep.Problems, fmt.Sprintf("the %s run wrote %d contact rows to Brevo (import rows + single upserts) for %d created and updated: "+
				"some were written twice", w.name, w.writes, w.s.Created+w.s.Updated))
		}
	}
	rep.Wall = time.Since(began)
	return rep, nil
}

// groupsFor finds the shared identifiers with the mapping the runs used.
func groupsFor(dir string, o Options) (groups, error) {
	cfg, err := bootstrap.LoadConfig(filepath.Join(dir, "reference.yaml"))
	if err != nil {
		return groups{}, err
	}
	m, err := mapping.New(cfg.MappingOptions())
	if err != nil {
		return groups{}, fmt.Errorf("building the field mapping: %w", err)
	}
	return sharedGroups(m, gen.New(o.Seed, o.Users)), nil
}

// workDir returns dir, or a new temporary directory and its removal.
func workDir(dir string) (string, func(), error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, fmt.Errorf("creating the work directory: %w", err)
		}
		return dir, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "tajo-chaos-")
	if err != nil {
		return "", nil, fmt.Errorf("creating a work directory: %w", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}
