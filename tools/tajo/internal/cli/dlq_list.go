package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/dlq"
)

func init() { registerUnder("dlq", newDLQListCmd) }

// defaultDLQLimit keeps a first look at a large DLQ to one screenful or so.
const defaultDLQLimit = 100

// detailWidth is how much of a letter's detail fits a table row.
const detailWidth = 60

// dlqFilterFlags select dead letters by stage and reason, for every dlq
// command.
type dlqFilterFlags struct {
	stage, reason string
}

func (f *dlqFilterFlags) add(cmd *cobra.Command, verb string) {
	cmd.Flags().StringVar(&f.stage, "stage", "", verb+" only the dead letters of this stage (extractor, transformer, loader)")
	cmd.Flags().StringVar(&f.reason, "reason", "", verb+" only the dead letters with this reason (e.g. malformed_json)")
}

func (f dlqFilterFlags) filter(limit int) dlq.Filter {
	return dlq.Filter{Stage: f.stage, Reason: f.reason, Limit: limit}
}

type dlqListFlags struct {
	store   storeFlags
	filter  dlqFilterFlags
	limit   int
	json    bool
	showPII bool
}

func newDLQListCmd() *cobra.Command {
	var f dlqListFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List dead letters, oldest first",
		Long: `List the dead letters in the DLQ stream, oldest first: id, when it was stored
(UTC), stage, reason, the subject a replay sends it back to, the sync run,
how often it was delivered, and the start of the detail. E-mail addresses
(but their domain) and phone numbers are masked unless --show-pii is given;
control characters are shown escaped.

The id is what "tajo dlq show", "replay" and "purge" take. It reads
$NATS_URL, else the config's nats.url, else the local store (nats.store_dir,
default $TAJO_HOME/nats).`,
		Example: `  tajo dlq list
  tajo dlq list --stage transformer --reason malformed_json
  tajo dlq list --limit 0 --json    # every letter, as JSON`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return dlqList(cmd, f)
		},
	}
	f.store.add(cmd)
	f.filter.add(cmd, "list")
	cmd.Flags().IntVar(&f.limit, "limit", defaultDLQLimit, "show at most this many (0: all)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print a JSON array instead of a table")
	cmd.Flags().BoolVar(&f.showPII, piiFlag, false, "show e-mail addresses and phone numbers unmasked")
	return cmd
}

func dlqList(cmd *cobra.Command, f dlqListFlags) error {
	if f.limit < 0 {
		return fmt.Errorf("--limit %d: want 0 (all) or more", f.limit)
	}
	ctx := cmd.Context()
	b, err := openBus(ctx, cmd, f.store)
	if err != nil {
		return err
	}
	defer b.Close()
	filter := f.filter.filter(f.limit)
	items, err := dlq.List(ctx, b.JS, filter)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if f.json {
		return writeLettersJSON(out, items, f.showPII)
	}
	if len(items) == 0 {
		_, err := fmt.Fprintf(out, "No dead letters under %s.\n", filter.Subject())
		return err
	}
	if err := writeLetters(out, items, f.showPII); err != nil {
		return err
	}
	if f.limit == 0 || len(items) < f.limit {
		return nil
	}
	// The limit was reached: say how many there are in all.
	counts, err := dlq.Counts(ctx, b.JS)
	if err != nil {
		return err
	}
	if total := countUnder(counts, filter); total > uint64(len(items)) {
		_, err = fmt.Fprintf(out, "%d of %d shown: --limit 0 shows all.\n", len(items), total)
	}
	return err
}

// countUnder sums the counts f selects.
func countUnder(counts map[string]map[string]uint64, f dlq.Filter) uint64 {
	var n uint64
	for stage, reasons := range counts {
		for reason, c := range reasons {
			if f.Matches(stage, reason) {
				n += c
			}
		}
	}
	return n
}

// writeLetters prints the table. Every field comes from the bus, written by
// whoever could publish there: each is masked (unless showPII) and has its
// control characters escaped.
func writeLetters(w io.Writer, items []dlq.Item, showPII bool) error {
	cell := func(s string) string { return safeText(maskPII(s, showPII)) }
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME (UTC)\tSTAGE\tREASON\tSUBJECT\tRUN\tATTEMPTS\tDETAIL")
	for _, it := range items {
		l := it.Letter
		detail := l.Detail
		if it.Err != nil {
			detail = it.Err.Error()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", it.ID, it.Time.UTC().Format(time.DateTime),
			cell(l.Stage), cell(l.Reason), cell(dash(l.OriginalSubject)), cell(dash(l.RunID)), l.Attempts,
			truncate(cell(oneLine(detail)), detailWidth))
	}
	return tw.Flush()
}

// letterJSON is a dead letter in `tajo dlq list --json`.
type letterJSON struct {
	ID       uint64    `json:"id"`
	Time     time.Time `json:"time"`
	Stage    string    `json:"stage"`
	Reason   string    `json:"reason"`
	Subject  string    `json:"subject"`
	Run      string    `json:"run,omitempty"`
	Attempts uint64    `json:"attempts"`
	Detail   string    `json:"detail"`
	Error    string    `json:"error,omitempty"` // the letter could not be decoded
}

// writeLettersJSON prints the letters as JSON (which escapes control
// characters), masked unless showPII.
func writeLettersJSON(w io.Writer, items []dlq.Item, showPII bool) error {
	out := make([]letterJSON, 0, len(items))
	for _, it := range items {
		l := it.Letter
		j := letterJSON{ID: it.ID, Time: it.Time.UTC(), Stage: l.Stage, Reason: l.Reason, Subject: l.OriginalSubject,
			Run: l.RunID, Attempts: l.Attempts, Detail: maskPII(l.Detail, showPII)}
		if it.Err != nil {
			j.Error = maskPII(it.Err.Error(), showPII)
		}
		out = append(out, j)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the dead letters: %w", err)
	}
	_, err = w.Write(append(safeJSON(b), '\n'))
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a table row on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// truncate cuts s to n runes, marking the cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
