package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// Services are the binaries of the pipeline, by name.
var Services = []string{"extractor", "transformer", "loader"}

// Build compiles the service binaries into dir and returns their paths by
// name. It runs `go build` from the repository root (found from this file).
func Build(ctx context.Context, dir string) (map[string]string, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, s := range Services {
		if out[s], err = build(ctx, root, dir, s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Gateway is the gateway service's name: a process of its own, not one of
// the pipeline's Services.
const Gateway = "gateway"

// BuildService compiles one service's binary (one of Services, or
// Gateway) into dir and returns its path.
func BuildService(ctx context.Context, dir, name string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return build(ctx, root, dir, name)
}

func build(ctx context.Context, root, dir, s string) (string, error) {
	bin := filepath.Join(dir, s)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./services/"+s+"/cmd/"+s)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %w\n%s", s, err, b)
	}
	return bin, nil
}

func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the repository")
	}
	// tools/tajo/internal/stack/stack.go -> repository root
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", "..", "..")), nil
}

// Proc is one running service process.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

// Start runs bin with env added to the current environment; its output is
// kept for Output.
func Start(name, bin string, env []string, args ...string) (*Proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	buf := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = buf, buf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, out: buf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PID is the process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM and waits up to timeout for a graceful exit; it
// returns the exit error (nil for status 0).
func (p *Proc) Stop(timeout time.Duration) error {
	if !p.Exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %s after SIGTERM", p.Name, timeout)
	}
}

// Wait waits up to timeout for the process to end by itself and returns
// its exit error (nil for status 0); after timeout it kills it.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("%s still running after %s", p.Name, timeout)
	}
}

// Kill sends SIGKILL and waits for the process to end.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Output is what the process printed so far.
func (p *Proc) Output() string { return p.out.String() }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
