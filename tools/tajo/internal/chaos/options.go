package chaos

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox/faults"
)

// DefaultFaults is the fault mix: every request to either simulator
// draws at most one of these.
const DefaultFaults = "429=0.02,5xx=0.05,timeout=0.01,reset=0.005,latency=20ms±10ms,truncate=0.005"

// Options configure Run. Zero fields take the defaults noted.
type Options struct {
	// Users in the Braze simulator. Default 100,000.
	Users int
	// Seed makes the users, the faults and the chaos moments. Default 1.
	Seed int64
	// Faults are injected into the chaos run's simulators (never into the
	// reference run's). The zero Spec injects none.
	Faults faults.Spec
	// Kills is how many times each worker kind is SIGKILLed and restarted.
	Kills int
	// NATSRestarts is how many times nats-server is stopped and started
	// again on the same port and store directory.
	NATSRestarts int
	// NATSServer is the nats-server binary. Default: built from the
	// workspace's pinned module into WorkDir.
	NATSServer string
	// WorkDir holds binaries, the file stores and the workers' logs.
	// Default: a new temporary directory, removed when the run passes.
	WorkDir string
	// BatchSize is pipeline.batch_size in both runs' config file: the most
	// contact upserts per loader batch (imports are filled by bytes). 0
	// keeps the default, 30,000; smaller batches make more requests, so
	// more of them draw faults.
	BatchSize int
	// RealisticImports makes the chaos run's Brevo simulator take as long
	// over an import as Brevo does (brevo.RealisticImportDelay plus
	// RealisticImportRowsPerSecond): batches then wait behind slow imports,
	// as they do against the real Brevo.
	RealisticImports bool
	// CPUHog is how many busy processes run beside both syncs, so that the
	// timing of a busy machine is reproducible. Default none.
	CPUHog int
	// Timeout bounds each of the two syncs. Default 30 minutes.
	Timeout time.Duration
	// Log receives one line per chaos event and progress every few
	// seconds. Default: discarded.
	Log io.Writer
}

func (o Options) withDefaults() Options {
	if o.Users <= 0 {
		o.Users = 100_000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// Validate reports options Run refuses.
func (o Options) Validate() error {
	var errs []error
	if o.Kills < 0 {
		errs = append(errs, fmt.Errorf("kills %d: want 0 or more kills per worker kind", o.Kills))
	}
	if o.BatchSize < 0 {
		errs = append(errs, fmt.Errorf("batch size %d: want 0 (the default) or more", o.BatchSize))
	}
	if o.CPUHog < 0 {
		errs = append(errs, fmt.Errorf("cpu hog %d: want 0 or more busy processes", o.CPUHog))
	}
	if o.NATSRestarts < 0 {
		errs = append(errs, fmt.Errorf("nats restarts %d: want 0 or more", o.NATSRestarts))
	}
	if err := o.Faults.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("faults: %w", err))
	}
	return errors.Join(errs...)
}
