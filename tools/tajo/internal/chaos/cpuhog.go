package chaos

import (
	"context"
	"fmt"
	"os/exec"
	"syscall"
)

// startCPUHogs starts n processes that keep a core busy each, so a run sees
// the timing of a machine shared with other work, reproducibly. stop ends
// them (by PID).
func startCPUHogs(ctx context.Context, n int) (stop func(), err error) {
	var cmds []*exec.Cmd
	stop = func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
	for i := range n {
		// A shell busy loop: no build, no dependency, the lowest priority
		// the scheduler would give any other job's process (none).
		c := exec.CommandContext(ctx, "sh", "-c", "while :; do :; done")
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			stop()
			return nil, fmt.Errorf("starting CPU hog %d of %d: %w", i+1, n, err)
		}
		cmds = append(cmds, c)
	}
	return stop, nil
}
