package extractor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/membership"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// SegmentsBraze is what segment mirroring needs from a Braze client.
type SegmentsBraze interface {
	Segments(ctx context.Context) ([]braze.Segment, error)
	ExportSegment(ctx context.Context, req braze.ExportSegmentRequest) (braze.ExportSegmentResult, error)
	WaitExport(ctx context.Context, url string, open func() (io.WriteCloser, error), p braze.Backoff) (int64, error)
}

// ListMaker is what mirroring every segment (MirrorConfig.MirrorAll) needs
// from a Brevo client: it creates the lists of segments that have none.
type ListMaker interface {
	Folders(ctx context.Context) ([]brevo.Folder, error)
	CreateFolder(ctx context.Context, name string) (int64, error)
	Lists(ctx context.Context) ([]brevo.List, error)
	CreateList(ctx context.Context, name string, folderID int64) (int64, error)
}

var (
	_ SegmentsBraze = (*braze.Client)(nil)
	_ ListMaker     = (*brevo.Client)(nil)
)

// DefaultSegmentsFolder is the Brevo folder MirrorAll creates lists in.
const DefaultSegmentsFolder = "Braze segments"

// SegmentsLease names the lease the replica mirroring segments holds.
const SegmentsLease = "extractor.segments"

// MirrorConfig tunes segment mirroring.
type MirrorConfig struct {
	// Lists maps a Braze segment (id, or a name only one segment has) to
	// the Brevo list mirroring it (connectors.braze.lists).
	Lists map[string]int64
	// MirrorAll mirrors every segment without a list in Lists too, each
	// into a list of its name that the mirror creates in Folder and
	// records (connectors.braze.sync.segments.mirror_all). It needs Brevo.
	MirrorAll bool
	// Folder is the Brevo folder (by name: found, else created) MirrorAll
	// creates lists in; default DefaultSegmentsFolder.
	Folder string
	// Identity reads a member's braze_id, ext_id and email from an export
	// line (mapping.Mapper.Identity), and IdentityFields and
	// IdentityCustomAttributes are what the export must include for it.
	// Required.
	Identity                 func(line []byte) (brazeID, extID, email string, err error)
	IdentityFields           []string
	IdentityCustomAttributes []string
	// TempDir holds each export and membership while it is read; default
	// os.TempDir().
	TempDir string
	// RunBytes bounds the members a membership sort holds in memory
	// (membership.DefaultRunBytes when 0).
	RunBytes int
	// Poll is how an export URL is polled until ready (the poll is its own
	// retry); Retry retries listing segments and requesting an export (see
	// Config.Retry).
	Poll  braze.Backoff
	Retry resilience.Policy
	// SettlePoll is how often a run's ledger is read while its changes are
	// applied; default 500ms.
	SettlePoll time.Duration
	// Replicas of the object store and ledger bucket provisioned (nats.replicas).
	Replicas int
	Logger   *slog.Logger
	// Instance names this replica in the lease's logs; LeaseTTL as
	// Config.LeaseTTL.
	Instance string
	LeaseTTL time.Duration
}

// Mirror mirrors Braze segments into Brevo lists: each run exports every
// mirrored segment (one export of a segment at a time), compares its
// members with the last run's (pkg/membership) and publishes who joined
// and who left on raw.braze.segments, then follows the run's ledger until
// every change has been applied or dead-lettered: a segment's next run
// never starts before its last one's changes are settled, so an old change
// cannot overtake a newer one.
type Mirror struct {
	cfg    MirrorConfig
	js     jetstream.JetStream
	braze  SegmentsBraze
	lists  ListMaker // nil unless MirrorAll
	st     *state.Store
	led    *ledger.Ledger
	snaps  *membership.Store
	pub    *pipeline.Publisher
	log    *slog.Logger
	mu     sync.Mutex
	active string // id of the run in progress
}

// NewMirror builds a segment mirror and provisions what it keeps on the bus
// (pkg/membership). lists may be nil unless cfg.MirrorAll.
func NewMirror(ctx context.Context, js jetstream.JetStream, bz SegmentsBraze, lists ListMaker, st *state.Store, cfg MirrorConfig) (*Mirror, error) {
	switch {
	case bz == nil || st == nil:
		return nil, errors.New("segment mirror: a Braze client and a state store are required")
	case cfg.Identity == nil || len(cfg.IdentityFields) == 0:
		return nil, errors.New("segment mirror: Identity and IdentityFields are required (mapping.Mapper.Identity, IdentityFields)")
	case cfg.MirrorAll && lists == nil:
		return nil, errors.New("segment mirror: mirroring every segment creates Brevo lists: a Brevo client is required (BREVO_API_KEY)")
	case len(cfg.Lists) == 0 && !cfg.MirrorAll:
		return nil, errors.New("segment mirror: no segment to mirror: map segments to lists in connectors.braze.lists, or set sync.segments.mirror_all")
	}
	if cfg.Folder == "" {
		cfg.Folder = DefaultSegmentsFolder
	}
	if cfg.TempDir == "" {
		cfg.TempDir = os.TempDir()
	}
	if cfg.SettlePoll <= 0 {
		cfg.SettlePoll = 500 * time.Millisecond
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := membership.Provision(ctx, js, cfg.Replicas); err != nil {
		return nil, fmt.Errorf("segment mirror: %w", err)
	}
	snaps, err := membership.OpenStore(ctx, js)
	if err != nil {
		return nil, fmt.Errorf("segment mirror: %w", err)
	}
	led, err := ledger.Open(ctx, js, proto.BucketSegmentsLedger)
	if err != nil {
		return nil, fmt.Errorf("segment mirror: %w", err)
	}
	return &Mirror{cfg: cfg, js: js, braze: bz, lists: lists, st: st, led: led, snaps: snaps,
		pub: pipeline.NewPublisher(js, 4096),
		log: cfg.Logger.With("service", proto.StageExtractor, "resource", proto.ResourceSegments)}, nil
}

// ErrSegmentsBusy is returned by Start while a segments run is in progress.
var ErrSegmentsBusy = errors.New("a segments run is already in progress")

// Start begins a run in the background and returns its id at once.
func (m *Mirror) Start(ctx context.Context) (string, error) {
	run, err := m.begin(ctx)
	if err != nil {
		return "", err
	}
	go func() {
		if err := m.execute(ctx, run); err != nil {
			m.log.Error("segments run failed", "run", run.ID, "err", err)
		}
	}()
	return run.ID, nil
}

// Sync runs one run to its end (every change applied or dead-lettered) and
// returns its record.
// A run already in progress in this process (a scheduled one, or one
// resumed at start) is waited for and returned instead.
func (m *Mirror) Sync(ctx context.Context) (*proto.SyncRun, error) {
	run, err := m.begin(ctx)
	if errors.Is(err, ErrSegmentsBusy) {
		return m.awaitActive(ctx)
	}
	if err != nil {
		return nil, err
	}
	err = m.execute(ctx, run)
	return run, err
}

// awaitActive waits until the run in progress in this process is done and
// returns its record.
func (m *Mirror) awaitActive(ctx context.Context) (*proto.SyncRun, error) {
	m.mu.Lock()
	id := m.active
	m.mu.Unlock()
	if id == "" { // it ended in between
		return m.Sync(ctx)
	}
	t := time.NewTicker(m.cfg.SettlePoll)
	defer t.Stop()
	for {
		m.mu.Lock()
		busy := m.active == id
		m.mu.Unlock()
		if !busy {
			run, err := m.st.GetRun(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("reading segments run %s: %w", id, err)
			}
			if !runDone(run) {
				return run, fmt.Errorf("segments run %s stopped before it was done (%s): it resumes at the next start", id, run.Status)
			}
			return run, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func (m *Mirror) begin(ctx context.Context) (*proto.SyncRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.active != "" {
		return nil, fmt.Errorf("%w (run %s)", ErrSegmentsBusy, m.active)
	}
	// A run that stopped before its changes were settled is finished
	// first: only then may a new one compare the segments again. Asked
	// for a run, the mirror resumes that one.
	last, err := m.st.LastRun(ctx, proto.ResourceSegments)
	switch {
	case err == nil && !runDone(last):
		m.log.Warn("resuming a segments run that was interrupted", "run", last.ID, "status", last.Status)
		m.active = last.ID
		return last, nil
	case err != nil && !errors.Is(err, state.ErrNotFound):
		return nil, fmt.Errorf("reading the last segments run: %w", err)
	}
	run := &proto.SyncRun{V: proto.SchemaVersion, ID: state.NewID(), Resource: proto.ResourceSegments, Type: "incremental",
		Status: proto.RunRunning, StartedAt: time.Now().UnixMilli()}
	if err := m.st.PutRun(ctx, run); err != nil {
		return nil, fmt.Errorf("recording segments run: %w", err)
	}
	if err := m.st.SetLastRun(ctx, proto.ResourceSegments, run.ID); err != nil {
		return nil, fmt.Errorf("recording segments run: %w", err)
	}
	m.active = run.ID
	return run, nil
}

func runDone(r *proto.SyncRun) bool {
	return r.Status == proto.RunCompleted || r.Status == proto.RunFailed || r.Status == proto.RunIncomplete
}

// resumeInterrupted finishes the last run when a stopped mirror left it
// running or exported.
func (m *Mirror) resumeInterrupted(ctx context.Context) {
	last, err := m.st.LastRun(ctx, proto.ResourceSegments)
	switch {
	case errors.Is(err, state.ErrNotFound):
	case err != nil:
		m.log.Error("reading the last segments run", "err", err)
	case !runDone(last):
		if _, err := m.Start(ctx); err != nil && !errors.Is(err, ErrSegmentsBusy) {
			m.log.Error("resuming the last segments run", "run", last.ID, "err", err)
		}
	}
}

// Run mirrors while this replica holds the segments lease, until ctx is
// done: it answers requests on proto.SubjectSegmentsSyncRequest and, when
// interval is positive, starts a run every interval. A run interrupted by
// a stop resumes when the next holder starts.
func (m *Mirror) Run(ctx context.Context, nc *nats.Conn, interval time.Duration) error {
	holder := m.cfg.Instance + "/" + nc.ConnectedServerId() + "/" + fmt.Sprint(time.Now().UnixNano())
	for {
		lease, err := m.st.AcquireLease(ctx, SegmentsLease, holder, m.cfg.LeaseTTL)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("segment mirror: %w", err)
		}
		m.log.Info("holding the segments lease: mirroring", "lease", SegmentsLease, "instance", m.cfg.Instance)
		lctx, cancel := context.WithCancel(ctx)
		lost := keepLeading(lctx, cancel, lease, m.cfg.LeaseTTL, m.log)
		err = m.lead(lctx, nc, interval)
		cancel()
		stepped := <-lost
		m.waitIdle(idleWait)
		if !stepped {
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if rerr := lease.Release(rctx); rerr != nil {
				m.log.Warn("releasing the segments lease; a standby takes it after its ttl", "err", rerr)
			}
			rcancel()
		}
		if err != nil || ctx.Err() != nil {
			return err
		}
	}
}

// keepLeading runs keepLease in the background; the channel tells, once
// it stopped, whether the lease was lost (and ctx cancelled by it).
func keepLeading(ctx context.Context, cancel context.CancelFunc, lease *state.Lease, ttl time.Duration, log *slog.Logger) <-chan bool {
	out := make(chan bool, 1)
	go func() { out <- keepLease(ctx, lease, ttl, log, cancel) }()
	return out
}

func (m *Mirror) lead(ctx context.Context, nc *nats.Conn, interval time.Duration) error {
	sub, err := nc.Subscribe(proto.SubjectSegmentsSyncRequest, func(msg *nats.Msg) {
		var req proto.SyncRequest
		if len(msg.Data) > 0 {
			if err := json.Unmarshal(msg.Data, &req); err != nil {
				respond(msg, proto.SyncReply{Error: fmt.Sprintf("bad sync request: %v", err)})
				return
			}
		}
		if req.Type == "full" {
			respond(msg, proto.SyncReply{Error: "segments are always compared with their last membership: there is no full segments run; ask for incremental"})
			return
		}
		id, err := m.Start(ctx)
		rep := proto.SyncReply{RunID: id}
		if err != nil {
			rep.Error, rep.Busy = err.Error(), errors.Is(err, ErrSegmentsBusy)
		}
		respond(msg, rep)
	})
	if err != nil {
		return fmt.Errorf("segment mirror: subscribing to %s: %w", proto.SubjectSegmentsSyncRequest, err)
	}
	defer sub.Unsubscribe()
	m.resumeInterrupted(ctx)
	m.log.Info("segment mirror ready", "control", proto.SubjectSegmentsSyncRequest, "interval", interval)
	if interval <= 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := m.Start(ctx); err != nil && !errors.Is(err, ErrSegmentsBusy) {
				m.log.Error("scheduled segments run", "err", err)
			}
		}
	}
}

// waitIdle waits until no run is in progress in this process, at most d.
func (m *Mirror) waitIdle(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		busy := m.active != ""
		m.mu.Unlock()
		if !busy {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.log.Warn("a segments run did not stop in time; the next holder resumes it")
}
