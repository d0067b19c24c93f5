package extractor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/membership"
	"github.com/tajo-sync/tajo/proto"
)

// SegmentStages are the stages that mark a segments run's ledger.
var SegmentStages = proto.LedgerStages

// execute takes a run to its end: every mirrored segment's changes
// published (status exported), then every change applied or dead-lettered
// (completed; failed when a segment could not be mirrored). A run resumed
// after a stop skips the segments it already published and publishes the
// others again from their first change, under the same ids and ledger
// lines.
func (m *Mirror) execute(ctx context.Context, run *proto.SyncRun) (err error) {
	log := m.log.With("run", run.ID)
	defer func() {
		m.mu.Lock()
		m.active = ""
		m.mu.Unlock()
		if err == nil {
			return
		}
		if ctx.Err() != nil || busGone(err) {
			log.Warn("segments run interrupted (shutdown, or the bus went away); it resumes at the next start", "err", err)
			return
		}
		run.Status, run.FinishedAt = proto.RunFailed, time.Now().UnixMilli()
		run.Error = strings.TrimPrefix(run.Error+"; "+err.Error(), "; ")
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if perr := m.st.PutRun(pctx, run); perr != nil {
			log.Error("recording the failed segments run", "err", perr)
		}
	}()
	if run.Status == proto.RunRunning {
		targets, problems, err := m.targets(ctx)
		if err != nil {
			return err
		}
		run.Exported = 0
		for _, t := range targets {
			if err := m.mirrorSegment(ctx, run, t, log); err != nil {
				if ctx.Err() != nil || busGone(err) {
					return err // not the segment's fault: the run resumes
				}
				problems = append(problems, fmt.Sprintf("segment %s (%s): %v", t.SegmentID, t.Name, err))
				log.Error("mirroring a segment failed; the others go on", "segment", t.SegmentID, "err", err)
			}
		}
		run.Error = strings.Join(problems, "; ")
		run.Status = proto.RunExported
		if err := m.st.PutRun(ctx, run); err != nil {
			return fmt.Errorf("recording segments run: %w", err)
		}
		log.Info("segment changes published", "changes", run.Exported, "segments", len(targets))
	}
	t, err := m.settle(ctx, run)
	if err != nil {
		return err
	}
	run.Outcome = &proto.RunOutcome{
		Created: t.ByOutcome[ledger.Created], Updated: t.ByOutcome[ledger.Updated], Unchanged: t.ByOutcome[ledger.Unchanged],
		Stale: t.ByOutcome[ledger.Stale], DeadLettered: t.ByOutcome[ledger.DeadLettered], Refused: t.Refused,
	}
	run.Status, run.FinishedAt = proto.RunCompleted, time.Now().UnixMilli()
	if run.Error != "" {
		run.Status = proto.RunFailed
	}
	if err := m.st.PutRun(ctx, run); err != nil {
		return fmt.Errorf("recording segments run: %w", err)
	}
	if err := m.led.Prune(ctx, run.ID); err != nil {
		log.Warn("pruning the ledgers of older segments runs", "err", err)
	}
	log.Info("segments run done", "status", run.Status, "added", run.Outcome.Created, "removed", run.Outcome.Updated,
		"unchanged", run.Outcome.Unchanged, "dead_lettered", run.Outcome.DeadLettered)
	return nil
}

// settle waits until every change of run is applied or dead-lettered: its
// ledger has a final outcome for each line.
func (m *Mirror) settle(ctx context.Context, run *proto.SyncRun) (ledger.Tally, error) {
	t := time.NewTicker(m.cfg.SettlePoll)
	defer t.Stop()
	for {
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		tally, err := m.led.Tally(tctx, run.ID, run.Exported, SegmentStages...)
		cancel()
		switch {
		case err == nil && tally.Missing == 0:
			return tally, nil
		case busGone(err):
			return tally, fmt.Errorf("following the run's ledger: %w", err)
		case err != nil && ctx.Err() == nil:
			m.log.Warn("reading the segments run's ledger", "run", run.ID, "err", err)
		}
		select {
		case <-ctx.Done():
			return tally, ctx.Err()
		case <-t.C:
		}
	}
}

// mirrorSegment publishes one segment's changes for run and stores its new
// membership, advancing run.Exported past every line it published (also
// when it fails part way: those lines are on the bus and the ledger).
func (m *Mirror) mirrorSegment(ctx context.Context, run *proto.SyncRun, t target, log *slog.Logger) error {
	ms, err := m.mirrorState(ctx, t.SegmentID)
	if err != nil {
		return err
	}
	if ms.RunID == run.ID && (ms.Published || ms.Error != "") {
		// Done in this run before a stop: its lines keep their numbers.
		run.Exported = ms.FirstLine + ms.Lines
		if ms.Error != "" {
			return errors.New(ms.Error)
		}
		return nil
	}
	var dropped string
	if ms.RunID != run.ID {
		if ms.ListID != 0 && ms.ListID != t.ListID && ms.Snapshot != "" {
			// Mirrored into another list now: that list starts from
			// nothing (the old one keeps its members).
			log.Warn("segment now mirrored into another list: every member is added to it", "segment", t.SegmentID,
				"old_list", ms.ListID, "list", t.ListID)
			dropped, ms.Snapshot, ms.Members = ms.Snapshot, "", 0
		}
		*ms = proto.SegmentMirror{V: proto.SchemaVersion, SegmentID: t.SegmentID, Name: t.Name, ListID: t.ListID,
			ListCreated: t.Created, Snapshot: ms.Snapshot, Members: ms.Members, RunID: run.ID, FirstLine: run.Exported}
		if err := m.putMirrorState(ctx, ms); err != nil {
			return err
		}
	}
	lines, err := m.publishSegment(ctx, run, ms, log.With("segment", t.SegmentID, "list", t.ListID))
	run.Exported = ms.FirstLine + lines
	if err != nil {
		if ctx.Err() == nil && !busGone(err) {
			ms.Error, ms.Lines = err.Error(), lines
			if perr := m.putMirrorState(ctx, ms); perr != nil {
				log.Warn("recording a segment's failure", "segment", t.SegmentID, "err", perr)
			}
		}
		return err
	}
	if dropped != "" {
		if err := m.snaps.Delete(ctx, dropped); err != nil {
			log.Warn("deleting a membership no longer used", "err", err)
		}
	}
	return nil
}

// snapshotName is the object a segment's membership as of a run is kept in.
func snapshotName(segmentID, runID string) string { return segmentID + "/" + runID }

// publishSegment exports the segment (or downloads the export the run
// already asked for), sorts its members, diffs them with the last
// membership, publishes one change per member who joined or left, and
// stores the new membership. It returns how many lines it published.
func (m *Mirror) publishSegment(ctx context.Context, run *proto.SyncRun, ms *proto.SegmentMirror, log *slog.Logger) (int64, error) {
	if ms.ExportURL == "" {
		res, err := exportPatiently(ctx, m.braze.ExportSegment, braze.ExportSegmentRequest{SegmentID: ms.SegmentID,
			FieldsToExport: m.cfg.IdentityFields, CustomAttributesToExport: m.cfg.IdentityCustomAttributes}, m.cfg.Retry, log)
		if err != nil {
			return 0, fmt.Errorf("requesting the export: %w", err)
		}
		if res.URL == "" {
			return 0, errors.New("Braze answered the export without a URL (the workspace exports to its own cloud storage, which tajo cannot read)")
		}
		ms.ExportURL = res.URL
		if err := m.putMirrorState(ctx, ms); err != nil {
			return 0, err
		}
		log.Info("segment export requested")
	}
	members, unresolved, err := m.members(ctx, ms, log)
	if err != nil {
		return 0, err
	}
	defer os.Remove(members.Name())
	defer members.Close()

	var old io.Reader
	if ms.Snapshot != "" {
		r, err := m.snaps.Open(ctx, ms.Snapshot)
		switch {
		case errors.Is(err, membership.ErrNotFound):
			log.Error("the segment's last membership is gone from the object store: every member is added again, none removed",
				"snapshot", ms.Snapshot)
		case err != nil:
			return 0, err
		default:
			defer r.Close()
			old = r
		}
	}
	var lines int64
	var marks []ledger.Mark
	flush := func() error {
		if err := m.pub.Flush(ctx); err != nil {
			return fmt.Errorf("publishing segment changes: %w", err)
		}
		if err := m.led.Mark(ctx, run.ID, proto.StageExtractor, marks); err != nil {
			return err
		}
		marks = marks[:0]
		return nil
	}
	lastProgress := time.Now()
	st, err := membership.Diff(old, members, func(c membership.Change, id, ident []byte) error {
		op := proto.ListAdd
		if c == membership.Left {
			op = proto.ListRemove
		}
		no := ms.FirstLine + lines
		if err := m.publishChange(ctx, run, ms, no, op, string(id), string(ident)); err != nil {
			return err
		}
		lines++
		marks = append(marks, ledger.Mark{Line: no, Outcome: ledger.Exported})
		if len(marks) >= markEvery {
			if err := flush(); err != nil {
				return err
			}
		}
		if time.Since(lastProgress) > 500*time.Millisecond {
			lastProgress = time.Now()
			run.Exported = no + 1
			if err := m.st.PutRun(ctx, run); err != nil {
				log.Warn("recording progress", "err", err)
			}
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return lines, fmt.Errorf("comparing and publishing the membership: %w", err)
	}
	// Every change is on the bus: the new membership is the next run's
	// baseline.
	if _, err := members.Seek(0, io.SeekStart); err != nil {
		return lines, fmt.Errorf("rereading the membership: %w", err)
	}
	name := snapshotName(ms.SegmentID, run.ID)
	if err := m.snaps.Put(ctx, name, members); err != nil {
		return lines, err
	}
	prev := ms.Snapshot
	ms.Snapshot, ms.Members, ms.Published = name, st.New, true
	ms.Added, ms.Removed, ms.Unresolved, ms.Lines = st.Joined, st.Left, unresolved, lines
	if err := m.putMirrorState(ctx, ms); err != nil {
		return lines, err
	}
	if prev != "" && prev != name {
		if err := m.snaps.Delete(ctx, prev); err != nil {
			log.Warn("deleting the previous membership", "err", err)
		}
	}
	log.Info("segment compared", "members", st.New, "joined", st.Joined, "left", st.Left, "unresolved", unresolved)
	return lines, nil
}

// members downloads the segment's export and writes its members, sorted,
// to a temporary file (positioned at its start). unresolved counts the
// members with neither an ext_id nor a valid email, which no list call can
// name, and lines that are not a user.
func (m *Mirror) members(ctx context.Context, ms *proto.SegmentMirror, log *slog.Logger) (_ *os.File, unresolved int64, err error) {
	f, err := createExportFile(m.cfg.TempDir)
	if err != nil {
		return nil, 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	// A wait only polls: its next poll is the retry, no policy wraps it.
	size, err := m.braze.WaitExport(ctx, ms.ExportURL, braze.RewoundFile(f), m.cfg.Poll)
	if err != nil {
		return nil, 0, fmt.Errorf("downloading the export: %w", err)
	}
	sorter := membership.NewSorter(m.cfg.TempDir, m.cfg.RunBytes)
	defer sorter.Close()
	err = braze.ReadExportLimit(f, size, maxUncompressed(m.braze), func(l braze.Line) error {
		data := bytes.TrimSpace(l.Data)
		if l.Err != nil || len(data) == 0 {
			if l.Err != nil {
				unresolved++
			}
			return nil
		}
		id, ext, email, err := m.cfg.Identity(data)
		var ident string
		switch {
		case err != nil:
		case ext != "":
			ident = "x:" + ext
		case email != "":
			ident = "e:" + email
		}
		if ident == "" {
			unresolved++
			return nil
		}
		if err := sorter.Add(id, ident); errors.Is(err, membership.ErrBadMember) {
			unresolved++
			return nil
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("reading the export: %w", err)
	}
	out, err := os.CreateTemp(m.cfg.TempDir, "tajo-membership-*")
	if err != nil {
		return nil, 0, fmt.Errorf("creating the membership file: %w", err)
	}
	if _, err = sorter.WriteTo(out); err == nil {
		_, err = out.Seek(0, io.SeekStart)
	}
	if err != nil {
		out.Close()
		os.Remove(out.Name())
		return nil, 0, fmt.Errorf("sorting the members: %w", err)
	}
	log.Debug("segment export read", "bytes", size, "members", sorter.Added(), "unresolved", unresolved)
	return out, unresolved, nil
}

// publishChange publishes one member's change as ledger line no.
func (m *Mirror) publishChange(ctx context.Context, run *proto.SyncRun, ms *proto.SegmentMirror, no int64, op, brazeID, member string) error {
	payload, err := proto.Encode(&proto.SegmentChange{V: proto.SchemaVersion, RunID: run.ID, SegmentID: ms.SegmentID,
		ListID: ms.ListID, Op: op, BrazeID: brazeID, Member: member})
	if err != nil {
		return err
	}
	hdr := nats.Header{}
	hdr.Set(proto.HeaderSchema, "1")
	hdr.Set(proto.HeaderRunID, run.ID)
	hdr.Set(proto.HeaderLine, strconv.FormatInt(no, 10))
	hdr.Set(proto.HeaderKey, proto.KeyHash(brazeID))
	id := proto.MsgID("raw.segments."+run.ID, ms.SegmentID+"/"+brazeID, payload)
	if err := m.pub.Publish(ctx, proto.SubjectRawBrazeSegments, id, hdr, payload); err != nil {
		return fmt.Errorf("publishing the change of braze user %s: %w", brazeID, err)
	}
	return nil
}

// busGone tells the errors of a connection that is closed: the process is
// stopping, or lost its bus for good; what it was doing resumes elsewhere.
func busGone(err error) bool {
	return errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, jetstream.ErrConnectionClosed)
}
