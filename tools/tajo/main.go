// Command tajo is the connector's command line: `tajo run` runs the whole
// pipeline in one process on an embedded NATS server, `tajo sandbox` serves
// the Braze and Brevo simulators on their own, `tajo version` says which
// build this is.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tajo-sync/tajo/tools/tajo/internal/cli"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	// Ctrl-C and SIGTERM cancel the context; every command drains and
	// returns instead of dying mid-write.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.NewRoot(version).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tajo:", cli.Printable(err.Error())) // it may quote a vendor or a record
		os.Exit(1)
	}
}
