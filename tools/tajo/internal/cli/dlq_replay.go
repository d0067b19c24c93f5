package cli

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/dlq"
)

func init() { registerUnder("dlq", newDLQReplayCmd) }

type dlqReplayFlags struct {
	store  storeFlags
	filter dlqFilterFlags
	all    bool
	limit  int
}

func newDLQReplayCmd() *cobra.Command {
	var f dlqReplayFlags
	cmd := &cobra.Command{
		Use:   "replay [ID...]",
		Short: "Send dead letters back to the subject they came from",
		Long: `Send dead letters back to the subject they came from, with their original
headers and payload, for the stage to try again: the letters with the ids
given, or those --stage and --reason select, or --all.

Each replayed message carries Tajo-Replay-Attempt (1 on its first replay) and
a new Nats-Msg-Id, so it is not dropped as a duplicate of the original. A
letter leaves the DLQ once the stream it goes back to has stored it; if it
fails again, the stage dead-letters it again, with the attempt count.`,
		Example: `  tajo dlq replay 42 43
  tajo dlq replay --stage transformer --reason malformed_json
  tajo dlq replay --all --limit 1000`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return dlqReplay(cmd, f, args)
		},
	}
	f.store.add(cmd)
	f.filter.add(cmd, "replay")
	cmd.Flags().BoolVar(&f.all, "all", false, "replay every dead letter")
	cmd.Flags().IntVar(&f.limit, "limit", 0, "with --stage, --reason or --all: replay at most this many, oldest first (0: no limit)")
	return cmd
}

func dlqReplay(cmd *cobra.Command, f dlqReplayFlags, args []string) error {
	byFilter := f.all || f.filter.stage != "" || f.filter.reason != ""
	switch {
	case len(args) > 0 && byFilter:
		return errors.New("give either ids or --stage/--reason/--all, not both")
	case len(args) == 0 && !byFilter:
		return errors.New("nothing to replay: give ids (see `tajo dlq list`), --stage and/or --reason, or --all")
	case f.limit < 0:
		return fmt.Errorf("--limit %d: want 0 (no limit) or more", f.limit)
	case len(args) > 0 && f.limit != 0:
		return errors.New("--limit goes with --stage, --reason or --all, not with ids")
	}
	ids := make([]uint64, len(args))
	for i, a := range args {
		id, err := parseLetterID(a)
		if err != nil {
			return err
		}
		ids[i] = id
	}
	ctx := cmd.Context()
	b, err := openBus(ctx, cmd, f.store)
	if err != nil {
		return err
	}
	defer b.Close()
	var rep dlq.Report
	if byFilter {
		rep, err = dlq.ReplayFilter(ctx, b.JS, f.filter.filter(f.limit))
	} else {
		rep, err = dlq.Replay(ctx, b.JS, ids)
	}
	// What was done is printed even when the replay stopped half-way.
	if werr := writeReplay(cmd.OutOrStdout(), rep); werr != nil {
		return errors.Join(err, werr)
	}
	if err != nil {
		return err
	}
	if n := len(rep.Failed); n > 0 {
		return fmt.Errorf("%d dead letter(s) not replayed: the lines above say why", n)
	}
	return nil
}

func writeReplay(w io.Writer, rep dlq.Report) error {
	var b strings.Builder
	subjects := make([]string, 0, len(rep.Replayed))
	for s := range rep.Replayed {
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	switch total := rep.Total(); {
	case total == 0 && len(rep.Failed) == 0:
		b.WriteString("No dead letters to replay.\n")
	default:
		fmt.Fprintf(&b, "Replayed %d dead letter(s)", total)
		for i, s := range subjects {
			sep := ", "
			if i == 0 {
				sep = ": "
			}
			fmt.Fprintf(&b, "%s%d to %s", sep, rep.Replayed[s], safeText(s))
		}
		b.WriteString(".\n")
	}
	for _, f := range rep.Failed {
		// An error may quote the letter: masked and escaped like dlq show.
		fmt.Fprintf(&b, "  %d: %s\n", f.ID, safeText(maskPII(f.Err.Error(), false)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
