package cli

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"time"
)

// workersStopWait bounds how long `tajo run` waits for its workers once
// its syncs are over or it was asked to stop: a worker drains its
// in-flight batches for up to 30 s (pipeline.Config.DrainTimeout), so
// twice that is a worker that ignores its cancellation, a bug.
const workersStopWait = time.Minute

// awaitWorkers waits for the workers' result on done for up to wait. Past
// it, it writes to w what tajo's own goroutines are doing (where the
// worker is stuck) and returns an error saying so: the process stops
// rather than hang.
func awaitWorkers(done <-chan error, wait time.Duration, w io.Writer) error {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
	}
	fmt.Fprintf(w, "tajo: the workers did not stop within %s; stopping without them. What tajo's goroutines were doing (please report it):\n\n%s", wait, ownStacks())
	return fmt.Errorf("the workers did not stop within %s of the end of the syncs", wait)
}

// ownStacks is the stack of every goroutine that passes through tajo's
// own packages (not the embedded server's or the libraries' alone).
func ownStacks() string {
	buf := make([]byte, 64<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out bytes.Buffer
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("tajo-sync/tajo/")) {
			out.Write(g)
			out.WriteString("\n\n")
		}
	}
	return out.String()
}
