package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/dlq"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/services/transformer"
)

// checkTimeout bounds each vendor check of the status.
const checkTimeout = 15 * time.Second

// checkVendors fills in whether the configured keys work: one cheap read on
// each side. Braze: GET /segments/list (the general 250,000/hour pool).
// Brevo: GET /contacts?limit=1 (the contacts bucket, 10/s; GET /account
// would cost one of the 100 calls an hour every other endpoint shares).
// Both calls are recorded in the audit trail (rec).
func checkVendors(ctx context.Context, s *connectorSettings, st *connectorStatus, rec *cliAudit) {
	st.Connection.Braze = vendorCheck{Check: "GET /segments/list"}
	st.Connection.Brevo = vendorCheck{Check: "GET /contacts?limit=1"}
	check := func(c *vendorCheck, key, env string, read func(context.Context) error) {
		if key == "" {
			c.Error = env + " is not set: export it, or store it with `tajo connectors install braze`"
			return
		}
		cctx, cancel := context.WithTimeout(ctx, checkTimeout)
		defer cancel()
		if err := read(cctx); err != nil {
			c.Error = err.Error()
			return
		}
		c.OK = true
	}
	check(&st.Connection.Braze, s.creds.BrazeAPIKey, "BRAZE_API_KEY", func(ctx context.Context) error {
		c, err := braze.New(braze.Config{BaseURL: s.cfg.Connectors.Braze.InstanceURL, APIKey: s.creds.BrazeAPIKey,
			Observer: rec.Observer(cliService)})
		if err != nil {
			return fmt.Errorf("configuring the Braze client (check connectors.braze.instance_url): %w", err)
		}
		_, err = c.ListSegments(ctx, 0)
		return err
	})
	check(&st.Connection.Brevo, s.creds.BrevoAPIKey, "BREVO_API_KEY", func(ctx context.Context) error {
		c, err := brevo.New(brevo.Config{BaseURL: s.cfg.Connectors.Brevo.APIURL, APIKey: s.creds.BrevoAPIKey,
			Observer: rec.Observer(cliService)})
		if err != nil {
			return fmt.Errorf("configuring the Brevo client (check connectors.brevo.api_url): %w", err)
		}
		_, err = c.ListContacts(ctx, brevo.ListContactsParams{Limit: 1})
		return err
	})
	st.Connected = st.Connection.Braze.OK && st.Connection.Brevo.OK
}

// readState fills in what the bus knows: runs, consumer lag, dead letters.
// It only reads; on a server that was never provisioned everything reads
// as empty.
func readState(ctx context.Context, js jetstream.JetStream, st *connectorStatus) error {
	store, err := state.NewStore(ctx, js)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		st.Consumers = consumerLags(ctx, js)
		return nil
	}
	if err != nil {
		return err
	}
	if err := readRuns(ctx, js, store, st); err != nil {
		return err
	}
	st.Consumers = consumerLags(ctx, js)
	counts, err := dlq.Counts(ctx, js)
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return err
	}
	st.DeadLetters = []deadLetterCount{}
	for stage, reasons := range counts {
		for reason, n := range reasons {
			st.DeadLetters = append(st.DeadLetters, deadLetterCount{Stage: stage, Reason: reason, Count: n})
		}
	}
	sort.Slice(st.DeadLetters, func(i, j int) bool {
		a, b := st.DeadLetters[i], st.DeadLetters[j]
		return a.Stage < b.Stage || a.Stage == b.Stage && a.Reason < b.Reason
	})
	return readBreakers(ctx, store, st)
}

// readBreakers lists the circuit breakers every process reported (its last
// health snapshot), with their transitions so far.
func readBreakers(ctx context.Context, store *state.Store, st *connectorStatus) error {
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
			st.Breakers = append(st.Breakers, breakerState{
				Name: h.Service + "@" + h.Instance + " " + n, State: h.Breakers[n], Transitions: moves,
				ReportedAt: time.UnixMilli(h.At).UTC(),
			})
		}
	}
	return nil
}

// statusResources are the resources whose last run the status shows.
var statusResources = []string{"users"}

// readRuns finds the last run of each resource, the last completed users
// run and the last completed full one (whose export is the users count).
func readRuns(ctx context.Context, js jetstream.JetStream, store *state.Store, st *connectorStatus) error {
	n, err := loader.EventsProcessed(ctx, store.KeyValue())
	if err != nil {
		return err
	}
	st.EventsProcessed = int64(n)
	for _, res := range statusResources {
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
		if err != nil {
			return err
		}
		if run.Resource != "users" || run.Status != proto.RunCompleted {
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
func describeRun(ctx context.Context, js jetstream.JetStream, run *proto.SyncRun) (*runStatus, error) {
	s, err := app.Describe(ctx, js, run)
	if err != nil {
		return nil, err
	}
	rs := &runStatus{
		ID: run.ID, Resource: run.Resource, Type: run.Type, Status: run.Status, Error: run.Error,
		StartedAt: time.UnixMilli(run.StartedAt).UTC(),
		Exported:  s.Exported, Created: s.Created, Updated: s.Updated,
		Unchanged: s.Unchanged, Failed: s.Failed, DeadLettered: s.DeadLettered,
	}
	if run.FinishedAt > 0 {
		f := time.UnixMilli(run.FinishedAt).UTC()
		rs.FinishedAt = &f
		rs.DurationMs = run.FinishedAt - run.StartedAt
	}
	return rs, nil
}

// lagConsumers are the durable consumers whose backlog the status shows.
var lagConsumers = []struct{ stream, durable string }{
	{proto.StreamRaw, transformer.Durable},
	{proto.StreamOps, loader.Durable},
}

// consumerLags reads each consumer's backlog; a consumer that does not
// exist yet (no worker ever started) reads as absent.
func consumerLags(ctx context.Context, js jetstream.JetStream) []consumerLag {
	out := make([]consumerLag, 0, len(lagConsumers))
	for _, c := range lagConsumers {
		l := consumerLag{Stream: c.stream, Consumer: c.durable}
		cons, err := js.Consumer(ctx, c.stream, c.durable)
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
