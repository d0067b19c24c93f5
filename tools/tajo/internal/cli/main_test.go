package cli

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// stuckAfter is when this package's tests are taken to be stuck: they take
// about a minute and a half, and `make test` gives a package 15 minutes.
const stuckAfter = 8 * time.Minute

// TestMain stops a stuck run with the stacks of the goroutines in this
// project's code only. The go test timeout prints every goroutine of the
// embedded servers too, and what a CI log keeps of that (its end) says
// nothing of which test hung or where.
func TestMain(m *testing.M) {
	t := time.AfterFunc(stuckAfter, func() {
		fmt.Fprintf(os.Stderr, "cli tests still running after %s; the goroutines in tajo's code:\n\n%s", stuckAfter, ownStacks())
		os.Exit(2)
	})
	code := m.Run()
	t.Stop()
	os.Exit(code)
}

// awaitStopped waits for a cancelled `tajo run` to return; it outlasts the
// run's own bound on its workers (workersStopWait, then the connection's
// drain), whose report on stderr then says where a worker was stuck.
func awaitStopped(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(2*workersStopWait + drainWait):
		t.Fatalf("tajo run did not return after its context was cancelled; the goroutines in tajo's code:\n%s", ownStacks())
		return nil
	}
}
