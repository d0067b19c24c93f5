package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/tools/sandbox"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
	"github.com/tajo-sync/tajo/tools/tajo/internal/progress"
)

// segmentsOptions turn segment mirroring on in tajo run when the config
// does (connectors.braze.sync.segments): the mirror runs once after the
// first users sync, then every sync.segments.interval.
func segmentsOptions(cfg *config.Config) *app.SegmentsOptions {
	if !cfg.SegmentsMirrored() {
		return nil
	}
	s := cfg.Connectors.Braze.Sync.Segments
	return &app.SegmentsOptions{
		Mirror:   extractor.MirrorConfig{Lists: cfg.SegmentLists(), MirrorAll: s.MirrorAll, Folder: s.Folder},
		Interval: s.Interval,
	}
}

// mirrorSegments runs the segment mirror once (when it is on) and prints
// its outcome. ok is false when a segment could not be mirrored or a change
// was dead-lettered.
func mirrorSegments(ctx context.Context, out io.Writer, a *app.App) (ok bool, err error) {
	if a.Mirror == nil {
		return true, nil
	}
	s, err := a.SyncSegments(ctx)
	if err != nil && s.RunID == "" {
		return false, fmt.Errorf("mirroring segments: %w", err)
	}
	return s.OK() && err == nil, printSegments(out, s)
}

// printSegments prints a segments run: one line for the run, one a segment.
func printSegments(w io.Writer, s app.SegmentsSummary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\nsegments run %s %s in %s: %s changes: %s added, %s removed, %s unchanged, %s dead-lettered\n",
		s.RunID, s.Status, s.Duration.Round(10*time.Millisecond), progress.Count(s.Changes), progress.Count(s.Added),
		progress.Count(s.Removed), progress.Count(s.Unchanged), progress.Count(s.DeadLettered))
	for _, m := range s.Segments {
		fmt.Fprintf(&b, "  %-32s -> list %-6d %s members (%s joined, %s left, %s without ext_id or email)\n",
			safeText(m.Name), m.ListID, progress.Count(m.Members), progress.Count(m.Added), progress.Count(m.Removed),
			progress.Count(m.Unresolved))
	}
	if s.Error != "" {
		fmt.Fprintf(&b, "  error: %s\n", safeText(s.Error))
	}
	if s.DeadLettered > 0 {
		b.WriteString("  dead-lettered changes are in the DLQ, one per contact with Brevo's answer: tajo dlq list\n")
	}
	return write(w, "the segments summary", b.String())
}

// writeSegmentsRun prints a segments run's outcome and the mirrored
// segments under the status's "Last run by resource".
func writeSegmentsRun(b *strings.Builder, r *app.RunStatus, segs []app.SegmentStatus) {
	fmt.Fprintf(b, "           changes %s: added %s, removed %s, unchanged %s, dead-lettered %s\n",
		progress.Count(r.Exported), progress.Count(r.Created), progress.Count(r.Updated),
		progress.Count(r.Unchanged), progress.Count(r.DeadLettered))
	for _, s := range segs {
		fmt.Fprintf(b, "           %s -> list %d: %s members (last run: %s joined, %s left)\n", safeText(s.Name), s.ListID,
			progress.Count(s.Members), progress.Count(s.Joined), progress.Count(s.Left))
		if s.Error != "" {
			fmt.Fprintf(b, "             error: %s\n", safeText(s.Error))
		}
	}
}

// maxSandboxList bounds the lists sandboxLists creates.
const maxSandboxList = 200

// sandboxLists gives the simulated Brevo account the lists the config
// mirrors segments into (lists: {engaged_users: 10, ...}): it creates lists,
// which Brevo numbers in order, until the highest id exists. A fresh account
// has list 2 only.
func sandboxLists(ctx context.Context, sb *sandbox.Sandbox, cfg *config.Config) error {
	var highest int64
	for _, id := range cfg.SegmentLists() {
		highest = max(highest, id)
	}
	if highest == 0 || !cfg.SegmentsMirrored() {
		return nil
	}
	if highest > maxSandboxList {
		return fmt.Errorf("connectors.braze.lists names list %d: the sandbox makes lists up to %d; use smaller ids against it", highest, maxSandboxList)
	}
	bv, err := brevo.New(brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey})
	if err != nil {
		return err
	}
	lists, err := bv.Lists(ctx)
	if err != nil {
		return fmt.Errorf("reading the sandbox's Brevo lists: %w", err)
	}
	last := int64(0)
	for _, l := range lists {
		last = max(last, l.ID)
	}
	for last < highest {
		if last, err = bv.CreateList(ctx, fmt.Sprintf("Sandbox list %d", last+1), 1); err != nil {
			return fmt.Errorf("creating the sandbox's Brevo lists: %w", err)
		}
	}
	return nil
}
