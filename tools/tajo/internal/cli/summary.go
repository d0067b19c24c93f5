package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
	"github.com/tajo-sync/tajo/tools/tajo/internal/progress"
)

// printSummary prints the outcome of a run, one counter a line with what it
// means: the first run is where a new user learns the vocabulary.
func printSummary(w io.Writer, s app.Summary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s sync %s finished in %s\n", s.Type, s.RunID, s.Duration.Round(10*time.Millisecond))
	for _, r := range []struct {
		name string
		n    int64
		note string
	}{
		{"exported", s.Exported, "users read from Braze"},
		{"created", s.Created, "new Brevo contacts"},
		{"updated", s.Updated, "Brevo contacts changed"},
		{"unchanged", s.Unchanged, "same as last sent, nothing to do"},
		{"merged", s.Merged, "a newer line of the same user was sent instead"},
		{"stale", s.Stale, "older than what Brevo holds, skipped"},
		{"dead-lettered", s.DeadLettered, "bad input or refused, kept with its reason in the DLQ stream"},
		{"missing", s.Missing, "settled by no stage: the run is incomplete"},
		{"failed", s.Failed, "refused for good, or missing"},
	} {
		if r.n == 0 && (r.name == "merged" || r.name == "stale" || r.name == "missing") {
			continue // rare: shown when they happen
		}
		fmt.Fprintf(&b, "  %-14s %10s  %s\n", r.name, progress.Count(r.n), r.note)
	}
	for _, r := range []struct {
		name string
		n    int64
	}{{"synced without email", s.WithoutEmail}, {"synced without SMS", s.WithoutSMS}} {
		if r.n > 0 {
			fmt.Fprintf(&b, "  %s: %s (another user holds it, or it is invalid; see tajo dlq list)\n", r.name, progress.Count(r.n))
		}
	}
	if s.Error != "" {
		fmt.Fprintf(&b, "  error: %s\n", s.Error)
	}
	return write(w, "the summary", b.String())
}

// printSummaryLine prints the outcome of a scheduled run on one line.
func printSummaryLine(w io.Writer, s app.Summary) error {
	line := fmt.Sprintf("%s %s sync %s: exported %s, created %s, updated %s, unchanged %s, failed %s, dead-lettered %s, missing %s (%s)%s\n",
		time.Now().Format(time.TimeOnly), s.Type, s.RunID, progress.Count(s.Exported), progress.Count(s.Created),
		progress.Count(s.Updated), progress.Count(s.Unchanged), progress.Count(s.Failed),
		progress.Count(s.DeadLettered), progress.Count(s.Missing), s.Duration.Round(10*time.Millisecond), errSuffix(s.Error))
	return write(w, "the summary", line)
}

// printWhere tells the user where the state is and how to look inside.
func printWhere(w io.Writer, env *runEnv) error {
	var b strings.Builder
	b.WriteString("\nWhere to look\n")
	row := func(k, v string) { fmt.Fprintf(&b, "  %-15s %s\n", k, v) }
	row("state", env.home)
	row("log", env.logPath)
	if env.storeDir != "" {
		row("NATS store", env.storeDir)
	}
	url := natsx.RedactURL(env.natsURL)
	row("NATS URL", url)
	row("", fmt.Sprintf("nats --server %s stream ls; nats --server %s kv ls tajo_state", url, url))
	if sb := env.sandbox; sb != nil {
		row("Braze sandbox", sb.BrazeURL+"  key "+sb.BrazeAPIKey)
		row("Brevo sandbox", sb.BrevoURL+"  key "+sb.BrevoAPIKey)
		row("", "these stop with tajo run; `tajo sandbox` serves them on their own")
	}
	row("status", "tajo connectors status braze (set NATS_URL to the URL above while this runs)")
	return write(w, "where to look", b.String())
}

func write(w io.Writer, what, s string) error {
	if _, err := io.WriteString(w, s); err != nil {
		return fmt.Errorf("printing %s: %w", what, err)
	}
	return nil
}
