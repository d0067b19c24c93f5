package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/segmentexport"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

func init() { registerUnder("connectors", newConnectorsExportSegmentCmd) }

type exportSegmentFlags struct {
	configPath string
	segmentID  string
	targetList int64
	include    []string
}

func newConnectorsExportSegmentCmd() *cobra.Command {
	var f exportSegmentFlags
	cmd := &cobra.Command{
		Use:   "export-segment braze --segment-id ID --target-list N",
		Short: "Export a Braze segment into a Brevo list once",
		Long: `Export the users of one Braze segment into one Brevo list, once: each user's
contact is created or updated with the attributes given (Braze field names of
connectors.braze.field_mapping; default: every mapped field) and joins the
list. Contacts are identified by external_id, else by email; a user with
neither is skipped and counted. Nothing is removed from the list and nothing
is remembered: to keep a list in step with a segment, map it in
connectors.braze.lists and turn on sync.segments.

The export runs in this process with the configured keys, and goes to Brevo
as imports of at most pipeline.max_import_bytes, one at a time. When the
connector's state is reachable (NATS_URL, nats.url, or the local store) the
imports take turns with the loaders' through their lease.

The same is POST /v1/connectors/braze/segments/export on the gateway, and
exportSegment in @tajo/sdk.`,
		Example: `  tajo connectors export-segment braze --segment-id 3c1f7a2e-9b4d-4e8a-a11a-55e7a11a55e7 --target-list 12
  tajo connectors export-segment braze --segment-id seg-vip --target-list 12 --include-attributes email,first_name,last_name,total_revenue`,
		Args:      connectorArg,
		ValidArgs: []string{"braze"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExportSegment(cmd.Context(), cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.configPath, "config", "", "YAML configuration file (default $TAJO_CONFIG, else $TAJO_HOME/config.yaml if it exists)")
	fl.StringVar(&f.segmentID, "segment-id", "", "the Braze segment's id (or a name only one segment has)")
	fl.Int64Var(&f.targetList, "target-list", 0, "the Brevo list id the users join (Brevo > Contacts > Lists)")
	fl.StringSliceVar(&f.include, "include-attributes", nil, "Braze fields to write, comma-separated (default: every mapped field)")
	_ = cmd.MarkFlagRequired("segment-id")
	_ = cmd.MarkFlagRequired("target-list")
	return cmd
}

func runExportSegment(ctx context.Context, cmd *cobra.Command, f exportSegmentFlags) error {
	if f.targetList <= 0 {
		return fmt.Errorf("--target-list %d: give the Brevo list id, a positive integer (Brevo > Contacts > Lists)", f.targetList)
	}
	s, err := loadConnectorSettings(f.configPath)
	if err != nil {
		return err
	}
	if missing := s.missingKeys(); missing != "" {
		return errors.New(missing)
	}
	// Warnings (a member Brevo cannot take) go to stderr; the rest is quiet.
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	rec := openCLIAudit(s.home, cmd.ErrOrStderr())
	defer rec.close()
	bz, err := braze.New(braze.Config{BaseURL: s.cfg.Connectors.Braze.InstanceURL, APIKey: s.creds.BrazeAPIKey,
		Observer: rec.Observer(cliService)})
	if err != nil {
		return fmt.Errorf("configuring the Braze client (check connectors.braze.instance_url): %w", err)
	}
	bv, err := brevo.New(brevo.Config{BaseURL: s.cfg.Connectors.Brevo.APIURL, APIKey: s.creds.BrevoAPIKey,
		Observer: rec.Observer(cliService)})
	if err != nil {
		return fmt.Errorf("configuring the Brevo client (check connectors.brevo.api_url): %w", err)
	}
	opts := segmentexport.Options{
		Mapping: s.cfg.MappingOptions(), MaxImportBytes: s.cfg.Pipeline.MaxImportBytes, Retry: s.cfg.Resilience.Retry,
		Logger: log,
	}
	if _, exists := s.stateSource(); exists {
		b, err := openBus(ctx, cmd, storeFlags{configPath: f.configPath})
		if err != nil {
			return err
		}
		defer b.Close()
		st, err := state.NewStore(ctx, b.JS)
		if err != nil {
			return fmt.Errorf("opening the connector's state for the import lease: %w", err)
		}
		opts.Lock = app.ImportLock(st, "tajo-export-segment")
	}
	include := make([]string, 0, len(f.include))
	for _, a := range f.include {
		if a = strings.TrimSpace(a); a != "" {
			include = append(include, a)
		}
	}
	start := time.Now()
	res, err := segmentexport.Run(ctx, bz, bv, segmentexport.Request{Segment: f.segmentID, ListID: f.targetList,
		IncludeAttributes: include}, opts)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Exported %d users to Brevo list %d\n", res.Count, res.ListID)
	if res.Skipped > 0 {
		fmt.Fprintf(&b, "  %d users skipped: neither an external_id nor a valid email to name their contact\n", res.Skipped)
	}
	log.Info("segment exported", "segment", res.SegmentID, "name", res.SegmentName, "imports", res.Imports,
		"took", time.Since(start).Round(10*time.Millisecond))
	fmt.Fprintf(cmd.ErrOrStderr(), "segment %s (%s): %d import(s) into list %d\n", safeText(res.SegmentID), safeText(res.SegmentName),
		res.Imports, res.ListID)
	return write(cmd.OutOrStdout(), "the result", b.String())
}
