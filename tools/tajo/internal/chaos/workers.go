package chaos

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/tools/tajo/internal/stack"
)

// workers are the service processes, one per kind, restartable; every
// process ever started is kept for its log.
type workers struct {
	bins    map[string]string
	env     []string
	current map[string]*stack.Proc
	all     []*stack.Proc
}

func startWorkers(bins map[string]string, env []string) (*workers, error) {
	w := &workers{bins: bins, env: env, current: map[string]*stack.Proc{}}
	for _, kind := range stack.Services {
		if err := w.start(kind); err != nil {
			w.stop()
			return nil, err
		}
	}
	return w, nil
}

func (w *workers) start(kind string) error {
	var args []string
	if kind != TargetExtractor {
		// A replica's counters are kept under its instance name: a new
		// name per process, as a rescheduled pod gets.
		args = []string{"-instance", fmt.Sprintf("%s-%d", kind, len(w.all))}
	}
	p, err := stack.Start(kind, w.bins[kind], w.env, args...)
	if err != nil {
		return err
	}
	w.current[kind] = p
	w.all = append(w.all, p)
	return nil
}

// kill SIGKILLs the worker of kind and starts a new one at once.
func (w *workers) kill(kind string) error {
	w.current[kind].Kill()
	return w.start(kind)
}

// Crash is a worker that exited without being told to.
type Crash struct {
	Target   string
	Elapsed  time.Duration // since the sync was requested
	LastLine string        // its last line of output: usually why
}

// supervise restarts the workers that exited by themselves, as a
// deployment's restart policy would, and returns them.
func (w *workers) supervise(elapsed time.Duration) ([]Crash, error) {
	var out []Crash
	var errs []error
	for _, kind := range stack.Services {
		p := w.current[kind]
		if !p.Exited() {
			continue
		}
		out = append(out, Crash{Target: kind, Elapsed: elapsed, LastLine: lastLine(p.Output())})
		errs = append(errs, w.start(kind))
	}
	return out, errors.Join(errs...)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	const max = 300
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// stop ends the current workers gracefully and reports those that did not
// exit cleanly.
func (w *workers) stop() error {
	var errs []error
	for _, kind := range stack.Services {
		if p := w.current[kind]; p != nil {
			if err := p.Stop(30 * time.Second); err != nil {
				errs = append(errs, fmt.Errorf("%s exited with %w on SIGTERM", kind, err))
			}
		}
	}
	return errors.Join(errs...)
}

// writeLogs saves every process's output under dir, one file each.
func writeLogs(dir string, procs []*stack.Proc) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the log directory: %w", err)
	}
	var errs []error
	for i, p := range procs {
		name := filepath.Join(dir, fmt.Sprintf("%02d-%s.log", i, p.Name))
		if err := os.WriteFile(name, []byte(p.Output()), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("writing %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}
