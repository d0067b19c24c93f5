package extractor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go.opentelemetry.io/otel/trace"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/linediff"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// Resource is the name of what this extractor syncs.
const Resource = proto.ResourceUsers

// Braze is what the extractor needs from a Braze client.
type Braze interface {
	FindSegment(ctx context.Context, nameOrID string) (braze.Segment, error)
	ExportSegment(ctx context.Context, req braze.ExportSegmentRequest) (braze.ExportSegmentResult, error)
	WaitExport(ctx context.Context, url string, open func() (io.WriteCloser, error), p braze.Backoff) (int64, error)
}

// Config tunes the extractor.
type Config struct {
	// Segment is the id or name of the Braze segment to export; default "All Users".
	Segment string
	// FieldsToExport are the top-level fields the export includes; Braze
	// requires them (see mapping.Mapper.ExportFields).
	FieldsToExport []string
	// CustomAttributesToExport limits the custom attributes exported.
	CustomAttributesToExport []string
	// TempDir holds the downloaded export while it is read, and a full
	// run's spool of its users (about the export's size uncompressed:
	// ordered.go); default os.TempDir().
	TempDir string
	// Poll is how the export URL is polled until ready.
	Poll braze.Backoff
	// Retry retries the calls of an export request (find the segment, ask
	// for the export) on a retryable error: a 5xx, a reset or a 429 must
	// not fail the whole run. The download is a wait: it polls (Poll), and
	// its next poll is its retry. Wire the Braze guard's policy
	// (Guard.Retry: resilience.retry, the guard's clock); zero fields take
	// resilience's defaults.
	Retry resilience.Policy
	// FullEvery makes a scheduled sync (see Run) a full re-export once this
	// long has passed since the last full one began
	// (connectors.braze.sync.users.full_every); 0: incremental only.
	FullEvery time.Duration
	Logger    *slog.Logger
	// Instance names this replica in the schedule lease's logs.
	Instance string
	// LeaseTTL: a leader that stopped refreshing the schedule lease this
	// long is replaced by a standby; default DefaultLeaseTTL.
	LeaseTTL time.Duration
	// Tracer, when set, traces each run's export and each line published:
	// a trace per user, carried to the next stages in the line's headers.
	Tracer trace.Tracer
	// Digest names everything besides a line's bytes that decides what the
	// line becomes in Brevo (the field mapping's Digest, the lists): an
	// incremental run skips the lines unchanged since the run before only
	// while it is the same (unchanged.go). Empty: every line is published.
	Digest string
	// Backlog bounds the users published and not yet taken by the
	// transformer (pipeline.Backlog): past it, publishing waits for the
	// transformer to catch up. Default DefaultBacklog; negative: no bound.
	Backlog int
}

// DefaultBacklog is the raw users the extractor lets wait for the
// transformer: a few seconds of its work, so a whole export does not sit
// in the RAW stream (and in the server's memory) at once.
const DefaultBacklog = 20_000

// newLinePublisher publishes the export's lines in packs
// (pipeline.Publisher.Packing): cut by count and bytes and at each
// flushMarks, so an export read again packs its lines the same way.
func newLinePublisher(js jetstream.JetStream) *pipeline.Publisher {
	return pipeline.NewPublisher(js, 64).Packing(pipeline.DefaultPackItems)
}

// markEvery is how many lines the extractor publishes between two writes
// of their marks to the run's ledger.
const markEvery = ledger.ShardLines

// Extractor runs segment exports into the RAW stream.
type Extractor struct {
	cfg   Config
	js    jetstream.JetStream
	braze Braze
	st    *state.Store
	pub   *pipeline.Publisher
	// backlog holds publishing back while the transformer is behind.
	backlog *pipeline.Backlog
	log     *slog.Logger
	// ledger records each line's publication (or dead letter) for the
	// run's summary.
	ledger *ledger.Ledger
	// lines keeps each run's line entries (unchanged.go).
	lines jetstream.ObjectStore

	mu      sync.Mutex
	current string // id of the run in progress, if any

	marks []ledger.Mark // lines published or dead-lettered, not yet in the ledger
	// entries records the (user, line hash) of each line read, for the
	// next run (unchanged.go); nil outside publishExport.
	entries *linediff.Writer
	line    int64 // position of the next line of the export being read
}

// New builds an extractor; the streams and buckets must be provisioned.
func New(js jetstream.JetStream, bz Braze, st *state.Store, cfg Config) (*Extractor, error) {
	if bz == nil || st == nil {
		return nil, errors.New("extractor: a Braze client and a state store are required")
	}
	if len(cfg.FieldsToExport) == 0 {
		return nil, errors.New("extractor: FieldsToExport is empty: Braze requires the fields of a segment export")
	}
	if cfg.Segment == "" {
		cfg.Segment = "All Users"
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.TempDir == "" {
		cfg.TempDir = os.TempDir()
	}
	if cfg.Backlog == 0 {
		cfg.Backlog = DefaultBacklog
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	led, err := ledger.Open(ctx, js, proto.BucketLedger)
	if err != nil {
		return nil, fmt.Errorf("extractor: %w", err)
	}
	lines, err := js.ObjectStore(ctx, proto.BucketLines)
	if err != nil {
		return nil, fmt.Errorf("extractor: opening object store %s (provisioned at start-up?): %w", proto.BucketLines, err)
	}
	removeStaleExports(cfg.TempDir, cfg.Logger)
	log := cfg.Logger.With("service", proto.StageExtractor)
	return &Extractor{
		cfg: cfg, js: js, braze: bz, st: st, ledger: led, lines: lines,
		pub:     newLinePublisher(js),
		backlog: pipeline.NewBacklog(js, proto.StreamRaw, proto.DurableTransformerUsers, pipeline.Packs(cfg.Backlog), log),
		log:     log,
	}, nil
}

// ErrBusy is returned by Start while a run is in progress.
var ErrBusy = errors.New("a users sync is already running")

// Start begins a run in the background and returns its id at once.
func (e *Extractor) Start(ctx context.Context, runType string) (string, error) {
	run, err := e.begin(ctx, runType)
	if err != nil {
		return "", err
	}
	go func() {
		if err := e.execute(ctx, run); err != nil {
			e.log.Error("users sync failed", "run", run.ID, "err", err)
		}
	}()
	return run.ID, nil
}

// Sync runs one export to the end and returns its record.
func (e *Extractor) Sync(ctx context.Context, runType string) (*proto.SyncRun, error) {
	run, err := e.begin(ctx, runType)
	if err != nil {
		return nil, err
	}
	err = e.execute(ctx, run)
	return run, err
}

func (e *Extractor) begin(ctx context.Context, runType string) (*proto.SyncRun, error) {
	if runType == "" {
		runType = "full"
	}
	if runType != "full" && runType != "incremental" {
		return nil, fmt.Errorf("unknown sync type %q: use full or incremental", runType)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.current != "" {
		return nil, fmt.Errorf("%w (run %s)", ErrBusy, e.current)
	}
	run := &proto.SyncRun{V: proto.SchemaVersion, ID: state.NewID(), Resource: Resource, Type: runType,
		Status: proto.RunRunning, StartedAt: time.Now().UnixMilli()}
	if err := e.st.PutRun(ctx, run); err != nil {
		return nil, fmt.Errorf("recording run: %w", err)
	}
	prev, err := e.st.LastRun(ctx, Resource)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return nil, fmt.Errorf("reading the last run: %w", err)
	}
	if err := e.st.SetLastRun(ctx, Resource, run.ID); err != nil {
		return nil, fmt.Errorf("recording run: %w", err)
	}
	// The ledgers of older runs are not read any more: the last run's is
	// kept for `tajo connectors status`.
	keep := []string{run.ID}
	if prev != nil {
		keep = append(keep, prev.ID)
		run.Base = prev.ID
		if err := e.st.PutRun(ctx, run); err != nil {
			return nil, fmt.Errorf("recording run: %w", err)
		}
	}
	if err := e.ledger.Prune(ctx, keep...); err != nil {
		e.log.Warn("pruning the ledgers of older runs", "err", err)
	}
	if err := e.pruneLines(ctx, keep...); err != nil {
		e.log.Warn("pruning the line entries of older runs", "err", err)
	}
	e.current = run.ID
	return run, nil
}

// resumeInterrupted restarts the last run when it is still marked running:
// an extractor stopped in the middle of it (killed, or its machine died).
// The run keeps its id, so lines published before the stop and published
// again now carry the same Nats-Msg-Id and are stored once (inside the
// dedup window; outside it they are handled twice, which is harmless:
// upserts are idempotent and unchanged content is skipped).
func (e *Extractor) resumeInterrupted(ctx context.Context) error {
	last, err := e.st.LastRun(ctx, Resource)
	if errors.Is(err, state.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if last.Status != proto.RunRunning {
		return nil
	}
	e.mu.Lock()
	if e.current != "" {
		e.mu.Unlock()
		return nil
	}
	e.current = last.ID
	e.mu.Unlock()
	e.log.Warn("resuming a run interrupted during its export", "run", last.ID)
	last.Exported, last.Malformed, last.Skipped = 0, 0, 0
	go func() {
		if err := e.execute(ctx, last); err != nil {
			e.log.Error("resumed users sync failed", "run", last.ID, "err", err)
		}
	}()
	return nil
}

func (e *Extractor) execute(ctx context.Context, run *proto.SyncRun) (err error) {
	// The run's big files go once its outcome is recorded: closing and
	// removing an export of 100 MB takes tens of milliseconds, and the
	// last batches of the next stages wait for that record.
	var tidy tidyFiles
	defer tidy.remove()
	ctx, endRun := e.traceRun(ctx, run)
	defer func() { endRun(err) }()
	defer func() {
		e.mu.Lock()
		e.current = ""
		e.mu.Unlock()
		switch {
		case err != nil && ctx.Err() != nil:
			// Stopped, not failed: the run stays running and the next
			// start resumes it.
			e.log.Warn("export interrupted by shutdown; it resumes at the next start", "run", run.ID)
		case err != nil:
			run.Status = proto.RunFailed
			run.Error = err.Error()
			run.FinishedAt = time.Now().UnixMilli()
		default:
			run.Status = proto.RunExported
		}
		// The run record must reflect the outcome even when ctx was cancelled.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if perr := e.st.PutRun(pctx, run); perr != nil && err == nil {
			err = fmt.Errorf("recording run: %w", perr)
		}
	}()

	log := e.log.With("run", run.ID)
	if run.ExportURL == "" {
		if err := e.requestExport(ctx, run, log); err != nil {
			return err
		}
	} else {
		log.Info("resuming the download of the run's export")
	}

	f, err := createExportFile(e.cfg.TempDir)
	if err != nil {
		return err
	}
	tidy.add(f)
	// A wait only polls: its next poll is the retry of a failed one, so no
	// retry policy wraps it.
	size, err := e.braze.WaitExport(ctx, run.ExportURL, braze.RewoundFile(f), e.cfg.Poll)
	if err != nil {
		return fmt.Errorf("downloading the export of run %s: %w", run.ID, err)
	}
	log.Info("segment export downloaded", "bytes", size)

	unchanged, err := e.unchangedLines(ctx, run, f, size, log)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		log.Warn("comparing the export with the base run's failed: every line is published", "err", err)
		unchanged = nil
	}
	if unchanged != nil {
		tidy.add(unchanged.entries)
	}

	for attempt := 1; ; attempt++ {
		err := e.publishExport(ctx, run, f, size, unchanged, &tidy, log)
		if err == nil || ctx.Err() != nil || attempt >= busAttempts || e.js.Conn().IsClosed() {
			return err
		}
		// The bus went away under the export (a server restarting): the
		// lines published so far are in RAW (or come again under the same
		// ids), so read the downloaded export again from its first line.
		log.Warn("publishing the export failed; publishing it again from the start once the bus is back",
			"attempt", attempt, "err", err)
		if werr := waitConnected(ctx, e.js.Conn(), busWait); werr != nil {
			return errors.Join(err, werr)
		}
		run.Exported, run.Malformed, run.Skipped = 0, 0, 0
		e.pub = newLinePublisher(e.js) // the old one holds the failed publishes
	}
}

// busAttempts bounds how often one export is published again after the
// bus failed under it; busWait bounds each wait for the bus to come back.
const (
	busAttempts = 5
	busWait     = 2 * time.Minute
)

// waitConnected waits until nc is connected again.
func waitConnected(ctx context.Context, nc *nats.Conn, within time.Duration) error {
	deadline := time.Now().Add(within)
	for !nc.IsConnected() {
		if time.Now().After(deadline) {
			return fmt.Errorf("the NATS connection did not come back within %s", within)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// publishExport reads the downloaded export from its first line and
// publishes every line but those unchanged since the base run, marking
// each in the run's ledger: every line of a run without skip in key order
// (ordered.go), the lines of one with skip where the export has them. The
// run's line entries are recorded as lines are read, unless the comparison
// with the base run wrote them (skip).
func (e *Extractor) publishExport(ctx context.Context, run *proto.SyncRun, f *os.File, size int64, skip *skipped, tidy *tidyFiles, log *slog.Logger) error {
	lastProgress := time.Now()
	e.line, e.marks = 0, e.marks[:0]
	var ef *os.File
	if skip == nil {
		var err error
		if ef, err = os.CreateTemp(e.cfg.TempDir, "tajo-lines-*"); err != nil {
			return fmt.Errorf("recording the export's line entries: %w", err)
		}
		defer removeFile(ef)
		e.entries = linediff.NewWriter(ef)
		defer func() { e.entries = nil }()
		// Every line is published: in key order (ordered.go).
		if err := e.publishOrdered(ctx, run, f, size, &lastProgress, tidy, log); err != nil {
			return err
		}
	} else {
		err := braze.ReadExportLimit(f, size, maxUncompressed(e.braze), func(l braze.Line) error {
			if err := e.publishLine(ctx, run, l, skip); err != nil {
				return err
			}
			if len(e.marks) >= markEvery {
				if err := e.flushMarks(ctx, run); err != nil {
					return err
				}
				if err := e.backlog.Wait(ctx); err != nil {
					return err
				}
			}
			e.progress(ctx, run, &lastProgress, log)
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading the export of run %s: %w", run.ID, err)
		}
	}
	if err := e.flushMarks(ctx, run); err != nil {
		return err
	}
	var serr error
	if ef == nil {
		ef = skip.entries
	} else {
		serr = e.entries.Flush()
	}
	if serr == nil {
		serr = e.storeEntries(ctx, run, ef)
	}
	if serr != nil {
		// The sync goes on: the next incremental run publishes every line.
		log.Warn("keeping the export's line entries for the next run failed", "err", serr)
	}
	log.Info("segment export published", "users", run.Exported, "unchanged", run.Skipped, "malformed", run.Malformed)
	return nil
}

// progress records the run's progress at most every half second.
func (e *Extractor) progress(ctx context.Context, run *proto.SyncRun, last *time.Time, log *slog.Logger) {
	if time.Since(*last) <= 500*time.Millisecond {
		return
	}
	*last = time.Now()
	if err := e.st.PutRun(ctx, run); err != nil {
		log.Warn("recording progress", "err", err)
	}
}

// requestExport finds the segment and asks Braze for its export, recording
// the export's URL in the run so a resumed run downloads the same one.
func (e *Extractor) requestExport(ctx context.Context, run *proto.SyncRun, log *slog.Logger) error {
	var seg braze.Segment
	err := e.cfg.Retry.Do(ctx, func(ctx context.Context) (err error) {
		seg, err = e.braze.FindSegment(ctx, e.cfg.Segment)
		return err
	})
	if errors.Is(err, braze.ErrSegmentNotFound) {
		return fmt.Errorf("finding Braze segment %q: %w; set connectors.braze.sync.users.segment_id to the id "+
			"(Braze > Segments, or `GET /segments/list`) of a segment holding every user you want synced", e.cfg.Segment, err)
	}
	if err != nil {
		return fmt.Errorf("finding Braze segment %q: %w", e.cfg.Segment, err)
	}
	run.ExportedAt = time.Now().UnixMilli()
	res, err := e.exportSegment(ctx, braze.ExportSegmentRequest{
		SegmentID: seg.ID, FieldsToExport: e.cfg.FieldsToExport, CustomAttributesToExport: e.cfg.CustomAttributesToExport,
	})
	if err != nil {
		return fmt.Errorf("requesting export of segment %s: %w", seg.ID, err)
	}
	run.ExportURL = res.URL
	if err := e.st.PutRun(ctx, run); err != nil {
		return fmt.Errorf("recording run: %w", err)
	}
	log.Info("segment export requested", "segment", seg.Name, "segment_id", seg.ID)
	return nil
}

// exportPatience bounds how long an export request is retried: Braze
// answers 429 while another export of the segment runs (one asked for by an
// extractor that died before recording its URL), and a large export can
// take an hour.
const exportPatience = time.Hour

// exportSegment asks for the export: see exportPatiently.
func (e *Extractor) exportSegment(ctx context.Context, req braze.ExportSegmentRequest) (braze.ExportSegmentResult, error) {
	return exportPatiently(ctx, e.braze.ExportSegment, req, e.cfg.Retry, e.log)
}

// exportPatiently asks for an export with export under the retry policy
// (its clock, its Retryable), with two changes for this call: a 429 here
// mostly means "an export of this segment is already running", not a spent
// budget, so it is asked again every half minute at most (decorrelated
// jitter from the policy's Initial) instead of sleeping until the
// rate-limit pool resets at the top of the hour, for up to exportPatience.
func exportPatiently(ctx context.Context, export func(context.Context, braze.ExportSegmentRequest) (braze.ExportSegmentResult, error),
	req braze.ExportSegmentRequest, retry resilience.Policy, log *slog.Logger) (braze.ExportSegmentResult, error) {
	p := retry.WithDefaults()
	p.Max = min(p.Max, 30*time.Second)
	p.Initial = min(p.Initial, p.Max)
	p.Jitter = resilience.JitterDecorrelated
	p.MaxAttempts, p.MaxElapsed = math.MaxInt, exportPatience
	p.RetryAfter = func(error, time.Time) time.Duration { return 0 }
	onRetry := p.OnRetry
	p.OnRetry = func(attempt int, wait time.Duration, err error) {
		log.Warn("export request refused for now; asking again", "segment", req.SegmentID, "attempt", attempt, "wait", wait, "err", err)
		if onRetry != nil {
			onRetry(attempt, wait, err)
		}
	}
	var res braze.ExportSegmentResult
	err := p.Do(ctx, func(ctx context.Context) (err error) {
		res, err = export(ctx, req)
		return err
	})
	return res, err
}

// flushMarks waits until the server has stored every line published so
// far, then records them in the run's ledger: a line marked exported is in
// RAW.
func (e *Extractor) flushMarks(ctx context.Context, run *proto.SyncRun) error {
	if err := e.pub.Flush(ctx); err != nil {
		return fmt.Errorf("publishing export lines: %w", err)
	}
	if err := e.ledger.Mark(ctx, run.ID, proto.StageExtractor, e.marks); err != nil {
		return err
	}
	e.marks = e.marks[:0]
	return nil
}

// publishLine checks one export line and publishes it, or dead-letters it.
func (e *Extractor) publishLine(ctx context.Context, run *proto.SyncRun, l braze.Line, skip *skipped) error {
	data, where, err := e.readLine(ctx, run, l)
	if data == nil {
		return err
	}
	if o, ok := skip.outcome(e.line); ok {
		// As in the base run: its entry is skip's, its user need not be
		// read. A line naming no user counts as malformed again, without
		// a second letter.
		if skip.unnamed.Has(uint32(e.line)) {
			run.Malformed++
		} else {
			run.Exported++
			run.Skipped++
		}
		e.marks = append(e.marks, ledger.Mark{Line: e.line, Outcome: o})
		e.line++
		return nil
	}
	en, id, _, reason, detail := entryOf(e.line, data)
	if e.line <= int64(^uint32(0)) {
		if err := e.recordEntry(en); err != nil {
			return err
		}
	}
	if reason != "" {
		return e.deadLetter(ctx, run, reason, where()+": "+detail, data)
	}
	no := e.line
	e.line++
	published, err := e.publishUser(ctx, run, no, id, data, where)
	if published {
		e.marks = append(e.marks, ledger.Mark{Line: no, Outcome: ledger.Exported})
	}
	return err
}

// readLine is the first step of every export line: one the reader could
// not deliver is dead-lettered, and an empty one has no number. data is
// the line trimmed, nil when there is nothing more to do with it (err
// says whether the letter failed); where names the line in a letter
// (formatted only for one).
func (e *Extractor) readLine(ctx context.Context, run *proto.SyncRun, l braze.Line) (data []byte, where func() string, err error) {
	where = func() string { return fmt.Sprintf("%s line %d", l.Entry, l.No) }
	if l.Err != nil {
		return nil, where, e.deadLetter(ctx, run, "unreadable_line", fmt.Sprintf("%s: %v", where(), l.Err), l.Data)
	}
	data = bytes.TrimSpace(l.Data)
	if len(data) == 0 {
		return nil, where, nil
	}
	return data, where, nil
}

// recordEntry adds a line's entry to the run's line entries, when this
// run records them.
func (e *Extractor) recordEntry(en linediff.Entry) error {
	if e.entries == nil {
		return nil
	}
	if err := e.entries.Add(en); err != nil {
		return fmt.Errorf("recording the export's line entries: %w", err)
	}
	return nil
}

// publishUser publishes line no of the export, the user id, to RAW, and
// counts it exported (published true: the caller marks it so); a line over
// the bus's max payload is dead-lettered instead (where names it).
func (e *Extractor) publishUser(ctx context.Context, run *proto.SyncRun, no int64, id string, data []byte, where func() string) (published bool, err error) {
	// The line is reused by the reader: the payload must own its bytes.
	payload, err := proto.Encode(&proto.RawUser{V: proto.SchemaVersion, RunID: run.ID, BrazeID: id,
		ExportedAt: run.ExportedAt, Line: data})
	if err != nil {
		return false, err
	}
	hdr := nats.Header{}
	hdr.Set(proto.HeaderSchema, "1")
	hdr.Set(proto.HeaderRunID, run.ID)
	hdr.Set(proto.HeaderSourceVersion, fmt.Sprint(run.ExportedAt))
	hdr.Set(proto.HeaderLine, strconv.FormatInt(no, 10))
	span := e.traceLine(ctx, run, no, id, hdr)
	err = e.pub.Publish(ctx, proto.SubjectRawBrazeUsers, proto.MsgID("raw.users."+run.ID, id, data), hdr, payload)
	endLine(span, err)
	if tl := (*pipeline.TooLargeError)(nil); errors.As(err, &tl) {
		// The line is kept out of the DLQ too (it would not fit either):
		// its braze_id and size say where to look.
		return false, e.deadLetterLine(ctx, run, no, pipeline.ReasonTooLarge, fmt.Sprintf("%s: braze user %s: the line is %d bytes, "+
			"over the bus's max payload of %d (raise max_payload on the NATS server, or trim the user's attributes in Braze)",
			where(), id, len(data), tl.Max), nil)
	}
	if err != nil {
		return false, fmt.Errorf("publishing braze user %s: %w", id, err)
	}
	run.Exported++
	return true, nil
}

// deadLetter dead-letters the export's next line.
func (e *Extractor) deadLetter(ctx context.Context, run *proto.SyncRun, reason, detail string, data []byte) error {
	no := e.line
	e.line++
	return e.deadLetterLine(ctx, run, no, reason, detail, data)
}

// deadLetterLine dead-letters line no of the export and marks it so.
func (e *Extractor) deadLetterLine(ctx context.Context, run *proto.SyncRun, no int64, reason, detail string, data []byte) error {
	hdr := nats.Header{}
	hdr.Set(proto.HeaderRunID, run.ID)
	hdr.Set(proto.HeaderSchema, "1")
	// Deterministic: a resumed export dead-letters the same line once.
	idOf := data
	if idOf == nil { // no body kept (too large): the line's place names it
		idOf = []byte(detail)
	}
	hdr.Set(proto.HeaderMsgID, proto.MsgID("raw.users."+run.ID, "dead-letter", idOf))
	// The line travels as the RawUser it would have been, so a replay puts
	// it back on raw.braze.users in the shape the transformer reads.
	payload, err := proto.Encode(&proto.RawUser{V: proto.SchemaVersion, RunID: run.ID, ExportedAt: run.ExportedAt, Line: data})
	if err != nil {
		return err
	}
	if err := pipeline.PublishDeadLetter(ctx, e.js, proto.StageExtractor, reason, detail,
		proto.SubjectRawBrazeUsers, hdr, payload, 1); err != nil {
		return fmt.Errorf("dead-lettering %s: %w", detail, err)
	}
	e.marks = append(e.marks, ledger.Mark{Line: no, Outcome: ledger.DeadLettered})
	run.Malformed++
	e.log.Warn("export line dead-lettered", "run", run.ID, "reason", reason, "detail", detail)
	return nil
}

// brazeID checks that line is a JSON object with a braze_id and returns
// it, or the reason (a DLQ reason token) and detail of why it cannot be
// used (userOf).
func brazeID(line []byte) (id, reason, detail string) {
	id, _, reason, detail = userOf(line)
	return id, reason, detail
}

// userOf is brazeID with the key the transformer's Map gives the user's
// contact. It reads the line with mapping.Identity: the scanner and the
// rules Map applies to the same line, in one pass that builds nothing.
func userOf(line []byte) (id, key, reason, detail string) {
	id, key, err := mapping.Identity(line)
	if err == nil {
		return id, key, "", ""
	}
	if re, ok := errors.AsType[*mapping.RecordError](err); ok {
		return "", "", re.Reason, re.Detail
	}
	return "", "", mapping.ReasonMalformedJSON, err.Error()
}
