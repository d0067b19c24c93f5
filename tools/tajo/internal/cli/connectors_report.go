package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/analytics"
)

func init() { registerUnder("connectors", newConnectorsReportCmd) }

// Report formats.
const (
	formatTable = "table"
	formatCSV   = "csv"
	formatJSON  = "json"
)

func newConnectorsReportCmd() *cobra.Command {
	var (
		f            storeFlags
		since, until string
		format       string
	)
	cmd := &cobra.Command{
		Use:   "report braze",
		Short: "Show campaign and Canvas analytics beside Brevo's email campaign statistics",
		Long: `Show, per Braze campaign and Canvas, the sends, deliveries, opens, clicks,
unsubscribes, conversions and revenue of the days read (sync.campaigns,
sync.canvases), summed over the period, with a total; and, when
connectors.brevo.campaign_statistics is on, Brevo's own email campaigns
(those sent in the period) with their statistics and a total of their own.

Figures are summed across channels: email counts unique opens and clicks;
push counts direct opens and body clicks, and sent less bounces as
delivered; in-app messages count impressions as opens. A Canvas's sends
come from its steps, its conversions and revenue from its totals. Each day
holds what Braze reported when it was last read: recent days are re-read
(trailing_days) as Braze restates them.

--since and --until (YYYY-MM-DD, both included) bound the period shown:
default every day read, up to today. The first backfill's reach is set by
sync.campaigns.since and tajo run --since instead.

The analytics are read from the deployment's NATS server (NATS_URL, else
nats.url) or, without one, from the local store. The same report is served
by the gateway: GET /v1/connectors/braze/report.`,
		Example: `  tajo connectors report braze
  tajo connectors report braze --since 2026-11-01 --format csv > november.csv
  tajo connectors report braze --since 2026-11-01 --until 2026-11-30 --format json | jq .totals`,
		Args:      connectorArg,
		ValidArgs: []string{"braze"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, to, err := reportPeriod(since, until)
			if err != nil {
				return err
			}
			switch format {
			case formatTable, formatCSV, formatJSON:
			default:
				return fmt.Errorf("--format %q: use table, csv or json", format)
			}
			b, err := openBus(cmd.Context(), cmd, f)
			if err != nil {
				return err
			}
			defer b.Close()
			store, err := analytics.Open(cmd.Context(), b.JS)
			if errors.Is(err, jetstream.ErrBucketNotFound) {
				return errors.New("no analytics here yet: switch on connectors.braze.sync.campaigns or .canvases and run tajo run")
			}
			if err != nil {
				return err
			}
			rep, err := analytics.Build(cmd.Context(), store, from, to)
			if err != nil {
				return err
			}
			return writeReport(cmd.OutOrStdout(), rep, format)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&since, "since", "", "first day of the period, YYYY-MM-DD (default: the first day read)")
	cmd.Flags().StringVar(&until, "until", "", "last day of the period, YYYY-MM-DD (default: today)")
	cmd.Flags().StringVar(&format, "format", formatTable, "table, csv or json")
	return cmd
}

// reportPeriod reads --since and --until.
func reportPeriod(since, until string) (from, to time.Time, err error) {
	for _, x := range []struct {
		flag, v string
		t       *time.Time
	}{{"--since", since, &from}, {"--until", until, &to}} {
		if x.v == "" {
			continue
		}
		if *x.t, err = time.Parse(time.DateOnly, x.v); err != nil {
			return from, to, fmt.Errorf("%s %q: want a date such as 2026-11-01", x.flag, x.v)
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return from, to, fmt.Errorf("--until %s is before --since %s", until, since)
	}
	return from, to, nil
}

// writeReport prints rep in format; names from the vendors have their
// control characters escaped.
func writeReport(w io.Writer, rep analytics.Report, format string) error {
	switch format {
	case formatJSON:
		var b bytes.Buffer
		if err := rep.WriteJSON(&b); err != nil {
			return err
		}
		_, err := w.Write(safeJSON(b.Bytes()))
		return err
	case formatCSV:
		return rep.WriteCSV(w, safeText)
	}
	return rep.WriteTable(w, safeText)
}
