// Package status reads the connector's status from the bus: runs and their
// outcome, consumer lag, dead letters, segments, breakers, and the vendor
// checks. It is the one reader behind `tajo connectors status`, the
// gateway's GET /v1/connectors/braze/status and its status page, whether
// the gateway runs in `tajo run` or as its own binary.
package status

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/analytics"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/dlq"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// Status is the connector's status: what `tajo connectors status --json`
// prints and what the gateway's GET /v1/connectors/braze/status answers
// (and its status page shows). Read builds it for both. Field names
// are a stable interface: scripts read them. Add fields; do not rename
// them.
type Status struct {
	Connector string `json:"connector"`
	// Connected: both configured keys answered a cheap read (see Connection).
	Connected  bool       `json:"connected"`
	Connection Connection `json:"connection"`
	// LastSync is the last completed users run; null before the first.
	LastSync *RunStatus `json:"lastSync"`
	// UsersCount is how many users the last completed full sync exported
	// (0 before the first).
	UsersCount int64 `json:"usersCount"`
	// CampaignsTracked counts the campaigns and Canvases whose analytics
	// are read (sync.campaigns, sync.canvases).
	CampaignsTracked int64 `json:"campaignsTracked"`
	// EventsProcessed counts the events written to Brevo contact
	// timelines (Currents and handleEvent), each once.
	EventsProcessed int64 `json:"eventsProcessed"`
	// Resources is the last run of each resource, whatever its state.
	Resources map[string]*RunStatus `json:"resources"`
	// Runs are the last runs of every resource, newest first (at most
	// the constant Runs).
	Runs []*RunStatus `json:"runs"`
	// Consumers is the backlog of each stage's durable consumer.
	Consumers []ConsumerLag `json:"consumers"`
	// DeadLetters counts what waits in the DLQ stream, by stage and reason.
	DeadLetters []DeadLetterCount `json:"deadLetters"`
	// Segments are the mirrored segments (segment mirroring); null when
	// none is.
	Segments []SegmentStatus `json:"segments"`
	// Breakers are the circuit breakers of every process that reported its
	// health (one per vendor endpoint bucket); null when none did.
	Breakers []BreakerState `json:"breakers"`
	// Waiting says what holds the work back now, when the status can tell
	// (heldBack): each circuit breaker open in a process that reported
	// within HealthFresh, with what waits for it. Empty: nothing known.
	Waiting []string `json:"waiting"`
	// State is where the state was read: the NATS URL or the local store
	// directory; "" when there is none (nothing synced here yet).
	State string `json:"state"`
	// ReadAt is when the status was read.
	ReadAt time.Time `json:"readAt"`
}

// Connection is the result of both vendor checks.
type Connection struct {
	Braze VendorCheck `json:"braze"`
	Brevo VendorCheck `json:"brevo"`
}

// VendorCheck is one vendor's connection check.
type VendorCheck struct {
	OK    bool   `json:"ok"`
	Check string `json:"check"` // the request made
	Error string `json:"error,omitempty"`
}

// RunStatus is one sync run with its outcome counted from its ledger
// (as far as it has got while it runs).
type RunStatus struct {
	ID           string     `json:"id"`
	Resource     string     `json:"resource"`
	Type         string     `json:"type"`   // full | incremental
	Status       string     `json:"status"` // running | exported | completed | incomplete | failed
	Done         bool       `json:"done"`   // completed, incomplete or failed: it changes no more
	StartedAt    time.Time  `json:"startedAt"`
	FinishedAt   *time.Time `json:"finishedAt"` // null until it finished
	DurationMs   int64      `json:"durationMs"` // 0 until it finished
	Exported     int64      `json:"exported"`   // export lines, malformed ones included
	Malformed    int64      `json:"malformed"`  // export lines that were not a user
	Created      int64      `json:"created"`
	Updated      int64      `json:"updated"`
	Unchanged    int64      `json:"unchanged"`
	Merged       int64      `json:"merged"`
	Stale        int64      `json:"stale"`
	Failed       int64      `json:"failed"`
	DeadLettered int64      `json:"deadLettered"`
	// Deleted counts catalog items marked deleted in Brevo (catalog runs).
	Deleted int64  `json:"deleted,omitempty"`
	Error   string `json:"error,omitempty"`
}

// ConsumerLag is a durable consumer's backlog: messages not yet delivered
// (pending) and delivered but not yet acknowledged (ackPending).
type ConsumerLag struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	Exists     bool   `json:"exists"` // false until its worker first started
	Pending    uint64 `json:"pending"`
	AckPending uint64 `json:"ackPending"`
	Error      string `json:"error,omitempty"`
}

// DeadLetterCount is how many dead letters of one stage and reason wait.
type DeadLetterCount struct {
	Stage  string `json:"stage"`
	Reason string `json:"reason"`
	Count  uint64 `json:"count"`
}

// BreakerState is a circuit breaker's state (closed | open | half-open) as
// the process holding it last reported it.
type BreakerState struct {
	Name        string    `json:"name"` // "service@instance vendor/bucket"
	State       string    `json:"state"`
	Transitions int64     `json:"transitions"`
	ReportedAt  time.Time `json:"reported_at"`
}

// Runs is how many of the last runs Status.Runs holds.
const Runs = 10

// Resources are the resources whose last run the status shows.
var Resources = []string{proto.ResourceUsers, proto.ResourceSegments, proto.ResourceCatalogs, proto.ResourceCampaigns, proto.ResourceCanvases}

// LagConsumers are the durable consumers whose backlog the status shows:
// the users pipeline's, then the events pipeline's.
var LagConsumers = []struct{ Stream, Durable string }{
	{proto.StreamRaw, proto.DurableTransformerUsers},
	{proto.StreamOps, proto.DurableLoaderContacts},
	{proto.StreamRaw, proto.DurableTransformerEvents},
	{proto.StreamOps, proto.DurableLoaderEvents},
	{proto.StreamRaw, proto.DurableCatalogTransformer},
	{proto.StreamOps, proto.DurableProductLoader},
}

// Read is the connector's status: the vendor checks conn (see
// CheckVendors), then what the bus holds, read from js: runs, consumer
// lag, dead letters, breakers. It only reads; on a server that was never
// provisioned everything reads as empty. A nil js (no state anywhere yet)
// leaves the bus's parts empty.
func Read(ctx context.Context, js jetstream.JetStream, conn Connection) (*Status, error) {
	st := &Status{Connector: "braze", Connection: conn, Connected: conn.Braze.OK && conn.Brevo.OK,
		Resources: map[string]*RunStatus{}, Runs: []*RunStatus{}, DeadLetters: []DeadLetterCount{},
		Waiting: []string{}, ReadAt: time.Now().UTC()}
	if js == nil {
		return st, nil
	}
	store, err := state.NewStore(ctx, js)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		st.Consumers = consumerLags(ctx, js)
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	if err := readRuns(ctx, js, store, st); err != nil {
		return nil, err
	}
	st.Consumers = consumerLags(ctx, js)
	if err := readSegments(ctx, js, store, st); err != nil {
		return nil, err
	}
	counts, err := dlq.Counts(ctx, js)
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, err
	}
	for stage, reasons := range counts {
		for reason, n := range reasons {
			st.DeadLetters = append(st.DeadLetters, DeadLetterCount{Stage: stage, Reason: reason, Count: n})
		}
	}
	sort.Slice(st.DeadLetters, func(i, j int) bool {
		a, b := st.DeadLetters[i], st.DeadLetters[j]
		return a.Stage < b.Stage || a.Stage == b.Stage && a.Reason < b.Reason
	})
	if err := readBreakers(ctx, store, st); err != nil {
		return nil, err
	}
	return st, nil
}

// The checks' requests: cheap reads, nothing written.
const (
	BrazeCheck = "GET /segments/list"
	BrevoCheck = "GET /contacts?limit=1"
)

// VendorReads are the reads CheckVendors makes; a nil read means the key
// is missing, and its Missing text says how to set it.
type VendorReads struct {
	Braze, Brevo               func(context.Context) error
	BrazeMissing, BrevoMissing string
}

// Reads are the checks' reads with clients built from working keys:
// Braze GET /segments/list (the general 250,000/hour pool), Brevo GET
// /contacts?limit=1 (the contacts bucket, 10/s; GET /account would cost
// one of the 100 calls an hour every other endpoint shares).
func Reads(bz *braze.Client, bv *brevo.Client) VendorReads {
	return VendorReads{
		Braze: func(ctx context.Context) error { _, err := bz.ListSegments(ctx, 0); return err },
		Brevo: func(ctx context.Context) error {
			_, err := bv.ListContacts(ctx, brevo.ListContactsParams{Limit: 1})
			return err
		},
	}
}

// checkTimeout bounds each vendor check.
const checkTimeout = 15 * time.Second

// CheckVendors makes one cheap read on each side.
func CheckVendors(ctx context.Context, r VendorReads) Connection {
	c := Connection{Braze: VendorCheck{Check: BrazeCheck}, Brevo: VendorCheck{Check: BrevoCheck}}
	check := func(v *VendorCheck, read func(context.Context) error, missing string) {
		if read == nil {
			v.Error = missing
			return
		}
		cctx, cancel := context.WithTimeout(ctx, checkTimeout)
		defer cancel()
		if err := read(cctx); err != nil {
			v.Error = err.Error()
			return
		}
		v.OK = true
	}
	check(&c.Braze, r.Braze, r.BrazeMissing)
	check(&c.Brevo, r.Brevo, r.BrevoMissing)
	return c
}

// readBreakers lists the circuit breakers every process reported (its last
// health snapshot), with their transitions so far.
func readBreakers(ctx context.Context, store *state.Store, st *Status) error {
	healths, err := store.Healths(ctx)
	if err != nil {
		return err
	}
	for _, h := range healths {
		names := make([]string, 0, len(h.Breakers))
		for n := range h.Breakers {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			var moves int64
			for t, c := range h.Transitions {
				if strings.HasPrefix(t, n+" ") {
					moves += c
				}
			}
			b := BreakerState{
				Name: h.Service + "@" + h.Instance + " " + n, State: h.Breakers[n], Transitions: moves,
				ReportedAt: time.UnixMilli(h.At).UTC(),
			}
			st.Breakers = append(st.Breakers, b)
			if b.State == "open" && st.ReadAt.Sub(b.ReportedAt) <= HealthFresh {
				st.Waiting = append(st.Waiting, fmt.Sprintf("%s: circuit breaker %s open (reported %s): %s",
					h.Service+"@"+h.Instance, n, b.ReportedAt.Format(time.TimeOnly)+" UTC", heldBack(n)))
			}
		}
	}
	return nil
}

// HealthFresh is how recent a process's health snapshot must be for the
// status to explain the work held back by it: processes report every two
// seconds, so an older one is from a process that stopped (its breakers
// are listed, not taken as holding anything back).
const HealthFresh = 30 * time.Second

// heldBack is what waits while the breaker of bucket ("vendor/bucket") is
// open: the workers of its vendor stop fetching (pipeline.Config.Paused)
// and the stages before them stop once their bounded backlogs are full.
func heldBack(bucket string) string {
	switch vendor, _, _ := strings.Cut(bucket, "/"); vendor {
	case resilience.VendorBrevo:
		return "the loaders fetch nothing while a Brevo breaker is open: upserts, events and list changes wait in " +
			"their streams, then the transformer and the extractor wait for them (their backlogs are bounded), so " +
			"a sync in flight pauses; it goes on by itself once the breaker's cool-down (resilience.breaker.open_timeout) " +
			"has passed and a trial call to Brevo succeeds"
	case resilience.VendorBraze:
		return "calls to Braze fail at once while it is open: an export, an analytics read or a write back to Braze " +
			"waits, and goes on by itself once the breaker's cool-down (resilience.breaker.open_timeout) has passed " +
			"and a trial call to Braze succeeds"
	}
	return "calls to that vendor fail at once until its cool-down has passed and a trial call succeeds"
}

// readRuns finds the last run of each resource, the last runs, the last
// completed users run and the last completed full one (whose export is the
// users count).
func readRuns(ctx context.Context, js jetstream.JetStream, store *state.Store, st *Status) error {
	n, err := state.EventsProcessed(ctx, store.KeyValue())
	if err != nil {
		return err
	}
	st.EventsProcessed = int64(n)
	if st.CampaignsTracked, err = campaignsTracked(ctx, js); err != nil {
		return err
	}
	for _, res := range Resources {
		run, err := store.LastRun(ctx, res)
		if errors.Is(err, state.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		rs, err := describeRun(ctx, js, run)
		if err != nil {
			return err
		}
		st.Resources[res] = rs
	}
	ids, err := runIDs(ctx, store)
	if err != nil {
		return err
	}
	for _, id := range ids { // newest first
		run, err := store.GetRun(ctx, id)
		if errors.Is(err, state.ErrNotFound) {
			continue // removed since listed
		}
		if err != nil {
			return err
		}
		if len(st.Runs) < Runs {
			rs, err := describeRun(ctx, js, run)
			if err != nil {
				return err
			}
			st.Runs = append(st.Runs, rs)
		}
		if run.Resource != proto.ResourceUsers || run.Status != proto.RunCompleted {
			continue
		}
		if st.LastSync == nil {
			if st.LastSync, err = describeRun(ctx, js, run); err != nil {
				return err
			}
		}
		if run.Type == "full" {
			st.UsersCount = run.Exported + run.Malformed
			break
		}
	}
	return nil
}

// runIDs lists the stored run ids, newest first (ids sort by time).
func runIDs(ctx context.Context, store *state.Store) ([]string, error) {
	l, err := store.KeyValue().ListKeysFiltered(ctx, proto.RunKey(">"))
	if err != nil {
		return nil, fmt.Errorf("listing sync runs: %w", err)
	}
	defer func() { _ = l.Stop() }()
	var ids []string
	for k := range l.Keys() {
		ids = append(ids, strings.TrimPrefix(k, proto.RunKey("")))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ids)))
	return ids, nil
}

// describeRun is a run with its outcome as its ledger tallies it.
func describeRun(ctx context.Context, js jetstream.JetStream, run *proto.SyncRun) (*RunStatus, error) {
	if run.Resource == proto.ResourceSegments {
		return describeSegmentsRun(ctx, js, run)
	}
	s, err := Describe(ctx, js, run)
	if err != nil {
		return nil, err
	}
	rs := runHead(run)
	rs.Exported, rs.Malformed, rs.Created, rs.Updated = s.Exported, run.Malformed, s.Created, s.Updated
	rs.Unchanged, rs.Merged, rs.Stale, rs.Failed, rs.DeadLettered = s.Unchanged, s.Merged, s.Stale, s.Failed, s.DeadLettered
	if run.Outcome != nil {
		rs.Deleted = run.Outcome.Deleted
	}
	return rs, nil
}

// runHead is what the status says of any run before its counts: which run,
// its state, and when it started and finished.
func runHead(run *proto.SyncRun) *RunStatus {
	rs := &RunStatus{
		ID: run.ID, Resource: run.Resource, Type: run.Type, Status: run.Status, Error: run.Error,
		Done:      slices.Contains([]string{proto.RunCompleted, proto.RunFailed, proto.RunIncomplete}, run.Status),
		StartedAt: time.UnixMilli(run.StartedAt).UTC(),
	}
	if run.FinishedAt > 0 {
		f := time.UnixMilli(run.FinishedAt).UTC()
		rs.FinishedAt = &f
		rs.DurationMs = run.FinishedAt - run.StartedAt
	}
	return rs
}

// consumerLags reads each consumer's backlog; a consumer that does not
// exist yet (no worker ever started) reads as absent.
func consumerLags(ctx context.Context, js jetstream.JetStream) []ConsumerLag {
	out := make([]ConsumerLag, 0, len(LagConsumers))
	for _, c := range LagConsumers {
		l := ConsumerLag{Stream: c.Stream, Consumer: c.Durable}
		cons, err := js.Consumer(ctx, c.Stream, c.Durable)
		if err == nil {
			var info *jetstream.ConsumerInfo
			if info, err = cons.Info(ctx); err == nil {
				l.Exists, l.Pending, l.AckPending = true, info.NumPending, uint64(info.NumAckPending)
			}
		}
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
			l.Error = err.Error()
		}
		out = append(out, l)
	}
	return out
}

// campaignsTracked counts the campaigns and Canvases the analytics track
// (0 on a server that never read any).
func campaignsTracked(ctx context.Context, js jetstream.JetStream) (int64, error) {
	store, err := analytics.Open(ctx, js)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := store.Tracked(ctx)
	return int64(n), err
}
