package cli

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/dlq"
)

func init() { registerUnder("dlq", newDLQShowCmd) }

func newDLQShowCmd() *cobra.Command {
	var (
		store   storeFlags
		showPII bool
	)
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one dead letter in full: reason, headers and payload",
		Long: `Show one dead letter in full: stage, reason, the whole detail, the subject a
replay sends it back to, the original headers, and the payload. A msgpack
payload of a known subject is decoded and shown as JSON; JSON and text are
shown as they are; anything else as a hex dump. E-mail addresses (but
their domain) and phone numbers are masked unless --show-pii is given;
control characters are shown escaped.

ID is the number "tajo dlq list" shows.`,
		Example: `  tajo dlq show 42`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseLetterID(args[0])
			if err != nil {
				return err
			}
			b, err := openBus(cmd.Context(), cmd, store)
			if err != nil {
				return err
			}
			defer b.Close()
			it, err := dlq.Get(cmd.Context(), b.JS, id)
			if err != nil {
				return err
			}
			return writeLetter(cmd.OutOrStdout(), it, showPII)
		},
	}
	store.add(cmd)
	cmd.Flags().BoolVar(&showPII, piiFlag, false, "show e-mail addresses and phone numbers unmasked")
	return cmd
}

// parseLetterID reads a dead letter id as the commands take it.
func parseLetterID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("%q is not a dead letter id: use the number in the ID column of `tajo dlq list`", s)
	}
	return id, nil
}

// writeLetter prints one letter in full. Everything in it comes from the
// bus: each value is masked (unless showPII) and has its control
// characters escaped, line breaks included, so that no value can pass for
// another row; the payload keeps its lines.
func writeLetter(w io.Writer, it dlq.Item, showPII bool) error {
	l := it.Letter
	var b strings.Builder
	val := func(s string) string { return safeText(maskPII(s, showPII)) }
	fmt.Fprintf(&b, "Dead letter %d (%s)\n", it.ID, val(it.Subject))
	if it.Err != nil {
		fmt.Fprintf(&b, "  error:     %s\n", val(it.Err.Error()))
	}
	row := func(k, v string) { fmt.Fprintf(&b, "  %-10s %s\n", k+":", v) }
	row("stored", it.Time.UTC().Format(time.RFC3339Nano))
	row("stage", val(l.Stage))
	row("reason", val(l.Reason))
	row("detail", val(l.Detail))
	row("subject", val(dash(l.OriginalSubject))+"  (a replay publishes it here)")
	row("run", val(dash(l.RunID)))
	row("attempts", fmt.Sprintf("%d (deliveries before it was dead-lettered)", l.Attempts))
	if l.FailedAt != 0 {
		row("failed at", time.UnixMilli(l.FailedAt).UTC().Format(time.RFC3339Nano))
	}
	keys := make([]string, 0, len(l.Headers))
	for k := range l.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString("  headers:\n")
	if len(keys) == 0 {
		b.WriteString("    (none)\n")
	}
	for _, k := range keys {
		for _, v := range l.Headers[k] {
			fmt.Fprintf(&b, "    %s: %s\n", val(k), val(v))
		}
	}
	format, text := dlq.Render(l.OriginalSubject, l.Data)
	fmt.Fprintf(&b, "  payload (%s, %d bytes):\n", format, len(l.Data))
	text = safeLines(maskPII(text, showPII))
	for line := range strings.Lines(strings.TrimRight(text, "\n")) {
		b.WriteString("    " + line)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
