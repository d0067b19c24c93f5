package plan

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Report is what the dry run knows beyond the plan itself: the run's
// identity and totals, from its summary.
type Report struct {
	RunID string
	Type  string // full | incremental
	// Exported, Unchanged and DeadLettered are the run's totals: users read
	// from Braze, users whose content is what was last sent, and records a
	// real run would dead-letter.
	Exported     int64
	Unchanged    int64
	DeadLettered int64
	// DeadLetters counts the records a real run would dead-letter by
	// "stage/reason".
	DeadLetters map[string]int64
	// Show is how many contacts of each kind are listed; 0 lists none.
	Show int
	// Checked is how many contacts FetchDiffs read (0: no diffs asked for).
	Checked int
}

// Write prints the plan for a person: totals first, then the contacts.
func (p *Plan) Write(w io.Writer, r Report) error {
	var b strings.Builder
	creates, updates := p.Creates(), p.Updates()
	fmt.Fprintf(&b, "Dry run: %s sync of users, run %s. Nothing was written to Braze or Brevo.\n\n", r.Type, r.RunID)
	b.WriteString("Contacts\n")
	row := func(name string, n int64, note string) {
		fmt.Fprintf(&b, "  %-10s %10d  %s\n", name, n, note)
	}
	row("exported", r.Exported, "users read from Braze")
	row("create", int64(len(creates)), "new Brevo contacts")
	row("update", int64(len(updates)), "Brevo contacts whose content changed since the last sync")
	row("unchanged", r.Unchanged, "same as last sent, nothing to do")
	row("skipped", r.DeadLettered, "would be dead-lettered"+deadLetterNote(r.DeadLetters))

	b.WriteString("\nAttributes to create in Brevo\n")
	attrs := p.Attributes()
	if len(attrs) == 0 {
		b.WriteString("  none\n")
	}
	for _, a := range attrs {
		fmt.Fprintf(&b, "  %s (%s)\n", a.Name, a.Type)
	}
	b.WriteString("\nLists\n  add 0, remove 0 (segment-to-list sync is not built yet)\n")
	b.WriteString("\nEvents\n  send 0 (event sync is not built yet)\n")

	writeContacts(&b, "create", "+", creates, r)
	writeContacts(&b, "update", "~", updates, r)
	if r.Checked > 0 && r.Checked < len(creates)+len(updates) {
		fmt.Fprintf(&b, "\nDiffs read for the first %d contacts by key (--diff-limit).\n", r.Checked)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("printing the plan: %w", err)
	}
	return nil
}

func deadLetterNote(by map[string]int64) string {
	if len(by) == 0 {
		return ""
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, by[k])
	}
	return ": " + strings.Join(parts, ", ")
}

// writeContacts lists up to r.Show contacts, with their diffs when read.
func writeContacts(b *strings.Builder, what, mark string, cs []Contact, r Report) {
	if r.Show <= 0 || len(cs) == 0 {
		return
	}
	n := min(r.Show, len(cs))
	fmt.Fprintf(b, "\nContacts to %s", what)
	if n < len(cs) {
		fmt.Fprintf(b, " (first %d of %d by key; --show N lists more)", n, len(cs))
	}
	b.WriteString("\n")
	for _, c := range cs[:n] {
		fmt.Fprintf(b, "  %s %s", mark, c.Key)
		if c.Email != "" && c.Email != c.Key {
			fmt.Fprintf(b, "  %s", c.Email)
		}
		switch {
		case c.Checked && c.InBrevo && c.Op == "create":
			b.WriteString("  (already in Brevo: the write merges into it)")
		case c.Checked && !c.InBrevo && c.Op == "update":
			b.WriteString("  (no longer in Brevo: the write recreates it)")
		case c.Checked && len(c.Changes) == 0:
			b.WriteString("  (Brevo already holds these values)")
		}
		b.WriteString("\n")
		for _, ch := range c.Changes {
			fmt.Fprintf(b, "      %-20s %s -> %s\n", ch.Attribute, show(ch.From), show(ch.To))
		}
	}
}

// show prints an attribute value: strings quoted, absent values as "-".
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		return fmt.Sprintf("%q", x)
	default:
		return fmt.Sprint(x)
	}
}
