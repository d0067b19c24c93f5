package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/status"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
	"github.com/tajo-sync/tajo/tools/tajo/internal/progress"
)

func init() { registerUnder("connectors", newConnectorsStatusCmd) }

// The status's types are pkg/status's: `tajo connectors status --json` and
// the gateway's GET /v1/connectors/braze/status are one value.
type (
	connectorStatus  = status.Status
	connectionStatus = status.Connection
	vendorCheck      = status.VendorCheck
	runStatus        = status.RunStatus
	consumerLag      = status.ConsumerLag
	deadLetterCount  = status.DeadLetterCount
)

func newConnectorsStatusCmd() *cobra.Command {
	var (
		configPath string
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "status braze",
		Short: "Show whether the connector can reach both vendors, its last syncs, backlog and dead letters",
		Long: `Show the state of the Braze connector:

  connected          both API keys answer a cheap read: Braze GET /segments/list,
                     Brevo GET /contacts?limit=1 (nothing is written)
  last sync          the last completed users run: when, which type, how long
  users count        users exported by the last completed full sync
  campaigns tracked  campaigns and Canvases whose analytics are read
                     (sync.campaigns, sync.canvases; see tajo connectors report)
  events processed   events written to Brevo contact timelines (Currents and
                     handleEvent), each once
  resources          the last run of each resource, whatever its state
  consumers          each stage's backlog (pending + unacknowledged messages)
  dead letters       what waits in the DLQ stream, by stage and reason
  breakers           each process's circuit breakers per vendor endpoint bucket
                     (closed | half-open | open), with their transitions, as the
                     process last reported them (every 2 s)

The state is read from the deployment's NATS server (NATS_URL, else nats.url)
or, without one, from the local store ($TAJO_HOME/nats) on an embedded server
of its own. While "tajo run" holds that store, point NATS_URL at its server.

--json prints the same as one JSON object whose field names do not change.
Exit status 1 when not connected.`,
		Example: `  tajo connectors status braze
  tajo connectors status braze --json | jq .lastSync
  NATS_URL=nats://127.0.0.1:4222 tajo connectors status braze`,
		Args:      connectorArg,
		ValidArgs: []string{"braze"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := collectStatus(cmd.Context(), cmd, configPath)
			if err != nil {
				return err
			}
			if asJSON {
				err = writeStatusJSON(cmd.OutOrStdout(), st)
			} else {
				err = writeStatus(cmd.OutOrStdout(), st)
			}
			if err == nil && !st.Connected {
				err = errNotConnected
			}
			return err
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "YAML configuration file (default $TAJO_CONFIG, else $TAJO_HOME/config.yaml if it exists)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object with stable field names")
	return cmd
}

// errNotConnected makes the exit status 1 after a status that shows why.
var errNotConnected = fmt.Errorf("not connected: see the connection lines above for the cause and the fix")

// collectStatus checks both vendors and reads the state (app.ReadStatus).
func collectStatus(ctx context.Context, cmd *cobra.Command, configPath string) (*connectorStatus, error) {
	s, err := loadConnectorSettings(configPath)
	if err != nil {
		return nil, err
	}
	rec := openCLIAudit(s.home, cmd.ErrOrStderr())
	conn := app.CheckVendors(ctx, vendorReads(s, rec))
	rec.close()
	where, exists := s.stateSource()
	if !exists {
		// Nothing synced here yet: there is no state to read.
		return app.ReadStatus(ctx, nil, conn)
	}
	b, err := openBus(ctx, cmd, storeFlags{configPath: configPath})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	st, err := app.ReadStatus(ctx, b.JS, conn)
	if err != nil {
		return nil, fmt.Errorf("reading the sync state at %s: %w", where, err)
	}
	st.State = where
	return st, nil
}

func writeStatusJSON(w io.Writer, st *connectorStatus) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the status: %w", err)
	}
	return write(w, "the status", string(safeJSON(b))+"\n")
}

// writeStatus prints the status for a person.
func writeStatus(w io.Writer, st *connectorStatus) error {
	var b strings.Builder
	row := func(k, v string) { fmt.Fprintf(&b, "  %-18s %s\n", k, v) }
	fmt.Fprintf(&b, "Connector %s\n", st.Connector)
	row("connected", yesNo(st.Connected))
	for _, v := range []struct {
		name string
		c    vendorCheck
	}{{"Braze", st.Connection.Braze}, {"Brevo", st.Connection.Brevo}} {
		line := "✓ " + v.c.Check
		if !v.c.OK {
			line = "✗ " + v.c.Check + ": " + safeText(v.c.Error)
		}
		row("  "+v.name, line)
	}
	if st.LastSync == nil {
		row("last sync", "none completed yet")
	} else {
		r := st.LastSync
		row("last sync", fmt.Sprintf("%s, %s run %s, took %s", when(r.StartedAt), r.Type, r.ID, took(r)))
	}
	row("users count", progress.Count(st.UsersCount)+" (exported by the last full sync)")
	row("campaigns tracked", progress.Count(st.CampaignsTracked)+" (campaigns and Canvases whose analytics are read)")
	row("events processed", progress.Count(st.EventsProcessed)+" (written to Brevo contact timelines)")

	b.WriteString("\nLast run by resource\n")
	if len(st.Resources) == 0 {
		b.WriteString("  none\n")
	}
	for _, res := range app.StatusResources {
		r, ok := st.Resources[res]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "  %-8s %s %s %s, started %s, took %s\n", res, r.Type, r.ID, r.Status, when(r.StartedAt), took(r))
		switch res {
		case proto.ResourceSegments:
			writeSegmentsRun(&b, r, st.Segments)
		case proto.ResourceCampaigns, proto.ResourceCanvases:
			fmt.Fprintf(&b, "           days read %s, failed %s\n", progress.Count(r.Exported), progress.Count(r.Failed))
		default:
			deleted := ""
			if res == proto.ResourceCatalogs {
				deleted = ", deleted " + progress.Count(r.Deleted)
			}
			fmt.Fprintf(&b, "           exported %s, created %s, updated %s, unchanged %s%s, failed %s, dead-lettered %s\n",
				progress.Count(r.Exported), progress.Count(r.Created), progress.Count(r.Updated),
				progress.Count(r.Unchanged), deleted, progress.Count(r.Failed), progress.Count(r.DeadLettered))
		}
		if r.Error != "" {
			fmt.Fprintf(&b, "           error: %s\n", safeText(r.Error))
		}
	}

	if len(st.Waiting) > 0 {
		b.WriteString("\nHeld back\n")
		for _, w := range st.Waiting {
			fmt.Fprintf(&b, "  %s\n", w)
		}
	}

	b.WriteString("\nConsumer lag (pending + unacknowledged)\n")
	if len(st.Consumers) == 0 {
		b.WriteString("  n/a (no state yet)\n")
	}
	for _, c := range st.Consumers {
		name := c.Stream + "/" + c.Consumer
		switch {
		case c.Error != "":
			fmt.Fprintf(&b, "  %-26s error: %s\n", name, safeText(c.Error))
		case !c.Exists:
			fmt.Fprintf(&b, "  %-26s not created yet (its worker never ran)\n", name)
		default:
			fmt.Fprintf(&b, "  %-26s %s pending, %s unacknowledged\n", name,
				progress.Count(int64(c.Pending)), progress.Count(int64(c.AckPending)))
		}
	}

	b.WriteString("\nDead letters\n")
	if len(st.DeadLetters) == 0 {
		b.WriteString("  none\n")
	}
	for _, d := range st.DeadLetters {
		fmt.Fprintf(&b, "  %-26s %s\n", d.Stage+"/"+d.Reason, progress.Count(int64(d.Count)))
	}
	if len(st.DeadLetters) > 0 {
		b.WriteString("  (the tajo dlq commands show them and replay them)\n")
	}

	b.WriteString("\nCircuit breakers\n")
	if st.Breakers == nil {
		b.WriteString("  none reported yet (a worker reports them while it runs)\n")
	}
	for _, br := range st.Breakers {
		fmt.Fprintf(&b, "  %-40s %-9s %d transitions\n", br.Name, br.State, br.Transitions)
	}

	if st.State == "" {
		b.WriteString("\nNo state yet: nothing has synced here.\n")
	} else {
		fmt.Fprintf(&b, "\nState read from %s\n", st.State)
	}
	// Errors come from vendors and run ids, names and reasons from the bus:
	// no control character of theirs reaches the terminal.
	return write(w, "the status", safeLines(b.String()))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func took(r *runStatus) string {
	if r.FinishedAt == nil {
		return "(not finished)"
	}
	return (time.Duration(r.DurationMs) * time.Millisecond).Round(10 * time.Millisecond).String()
}
