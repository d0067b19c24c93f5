package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tajo-sync/tajo/pkg/audit"
	"github.com/tajo-sync/tajo/pkg/bootstrap"
)

// cliService names the CLI's own calls in audit entries.
const cliService = "cli"

// cliAudit records the vendor calls a CLI command makes itself (install,
// test, status, sync --dry-run): durably, in the spool under home, which
// `tajo run` and the workers ship to the AUDIT stream. A command may run
// with no bus at all, and its calls must be on record all the same.
type cliAudit struct {
	*audit.Recorder
	errOut io.Writer
}

func openCLIAudit(home string, errOut io.Writer) *cliAudit {
	log := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return &cliAudit{Recorder: audit.New(nil, audit.Options{Spool: bootstrap.AuditSpool(home), Logger: log}), errOut: errOut}
}

// close closes the recorder; an entry it could not keep is worth a warning,
// not a failed command.
func (a *cliAudit) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		fmt.Fprintln(a.errOut, "warning:", err)
	}
}

// record is a prober's observer: one entry per answered or failed probe.
func (a *cliAudit) record(vendor string, p probe, start time.Time, d time.Duration) {
	a.Record(audit.Entry{
		Time: start, Vendor: vendor, Method: p.method, Path: audit.Template(p.path), Status: p.status,
		Duration: d, Attempt: 1, RunID: a.Run(), Service: cliService, ErrorClass: audit.Classify(p.status, p.err),
	})
}
