package loader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/ledger"
	"github.com/tajo-sync/tajo/pkg/membership"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/proto"
)

// ImportLease names the lease a writer holds while a Brevo import of its
// runs (Brevo runs one import at a time): the loader's batches, and any
// other import of the connector's (the one-off segment export).
const ImportLease = importLease

// ListsDurable is the consumer every loader replica's lists worker shares.
const ListsDurable = proto.DurableLoaderLists

// ReasonListNotFound dead-letters a list change whose list Brevo does not
// have (deleted, or a wrong id in connectors.braze.lists).
const ReasonListNotFound = "list_not_found"

// ListsBrevo is what the lists worker needs from a Brevo client.
type ListsBrevo interface {
	AddToList(ctx context.Context, listID int64, m brevo.ListMembers) (brevo.ListResult, error)
	RemoveFromList(ctx context.Context, listID int64, m brevo.ListMembers) (brevo.ListResult, error)
	Contact(ctx context.Context, identifier, identifierType string) (brevo.ContactInfo, error)
}

var _ ListsBrevo = (*brevo.Client)(nil)

// ListsConfig tunes the lists worker.
type ListsConfig struct {
	// BatchSize is the most list changes handled together; they go to
	// Brevo brevo.MaxListMembers (150) per call. Default 450.
	BatchSize   int
	BatchWait   time.Duration // default 500ms
	Concurrency int           // default 1
	// UnknownContactRetries is how many deliveries an add for a contact
	// Brevo does not have (yet: the users sync may not have created it)
	// gets before it is dead-lettered contact_not_found; default 5.
	UnknownContactRetries int
	// AckWait is the consumer's redelivery timeout (pipeline.Config.AckWait).
	AckWait time.Duration
	// Backoff spaces the redeliveries of changes whose call failed
	// (pipeline.Config.Backoff; default 1s doubling to 5m).
	Backoff pipeline.Backoff
	// Replicas of the segments ledger bucket, when it is created here.
	Replicas int
	Paused   func() bool
	Logger   *slog.Logger
}

// Lists applies list changes (ops.brevo.lists.add and .remove) to Brevo:
// the changes of a batch are grouped by list, operation and identifier
// kind and sent at most 150 a call. Brevo answers each call with the
// contacts it changed and those it did not (failure). A contact in failure
// is looked up: already in the list (for a removal: already out of it, or
// gone) is done, and counted unchanged; a contact that does not exist is
// retried a few deliveries, then dead-lettered contact_not_found with
// Brevo's answer, one dead letter per contact. Outcomes go to the segments
// run's ledger: added (ledger.Created), removed (ledger.Updated),
// unchanged, dead-lettered.
type Lists struct {
	cfg ListsConfig
	js  jetstream.JetStream
	bv  ListsBrevo
	led *ledger.Ledger
	log *slog.Logger
}

// NewLists builds the lists worker; the streams must be provisioned.
func NewLists(ctx context.Context, js jetstream.JetStream, bv ListsBrevo, cfg ListsConfig) (*Lists, error) {
	if js == nil || bv == nil {
		return nil, errors.New("loader lists: JetStream and a Brevo client are required")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 3 * brevo.MaxListMembers
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = 500 * time.Millisecond
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.UnknownContactRetries <= 0 {
		cfg.UnknownContactRetries = 5
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := membership.Provision(ctx, js, cfg.Replicas); err != nil {
		return nil, fmt.Errorf("loader lists: %w", err)
	}
	led, err := ledger.Open(ctx, js, proto.BucketSegmentsLedger)
	if err != nil {
		return nil, fmt.Errorf("loader lists: %w", err)
	}
	return &Lists{cfg: cfg, js: js, bv: bv, led: led, log: cfg.Logger.With("service", proto.StageLoader, "worker", "lists")}, nil
}

// Run applies list changes until ctx is cancelled, then drains.
func (l *Lists) Run(ctx context.Context) error {
	w, err := pipeline.NewWorker(l.js, pipeline.Config{
		Stream:      proto.StreamOps,
		Durable:     ListsDurable,
		Subject:     proto.SubjectsOpsBrevoLists,
		Stage:       proto.StageLoader,
		Concurrency: l.cfg.Concurrency,
		BatchSize:   l.cfg.BatchSize,
		BatchWait:   l.cfg.BatchWait,
		AckWait:     l.cfg.AckWait,
		Backoff:     l.cfg.Backoff,
		Ledger:      l.led,
		Paused:      l.cfg.Paused,
		Logger:      l.log,
	}, l)
	if err != nil {
		return fmt.Errorf("loader lists: starting worker: %w", err)
	}
	return w.Run(ctx)
}

// listGroup is the changes of a batch one Brevo call may carry together.
type listGroup struct {
	list  int64
	op    string
	byExt bool
}

// member is one contact of a group, and the messages naming it (two Braze
// users may share an email: one call names the contact once).
type member struct {
	id   string
	msgs []int
}

// HandleBatch applies the batch's list changes, 150 contacts a call.
func (l *Lists) HandleBatch(ctx context.Context, batch []*pipeline.Msg) []error {
	errs := make([]error, len(batch))
	changes := make([]proto.ListChange, len(batch))
	groups := map[listGroup][]*member{}
	var order []listGroup
	index := map[listGroup]map[string]*member{}
	for i, m := range batch {
		c := &changes[i]
		if err := proto.Decode(m.Data, c); err != nil {
			errs[i] = pipeline.Permanent("bad_payload", err)
			continue
		}
		g := listGroup{list: c.ListID, op: c.Op, byExt: c.ExtID != ""}
		id := c.ExtID
		if !g.byExt {
			id = c.Email
		}
		if id == "" || c.ListID <= 0 || (c.Op != proto.ListAdd && c.Op != proto.ListRemove) {
			errs[i] = pipeline.Permanent("bad_payload", fmt.Errorf("braze user %s: list change names no contact, list or operation", c.BrazeID))
			continue
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
			index[g] = map[string]*member{}
		}
		if mb, ok := index[g][id]; ok {
			mb.msgs = append(mb.msgs, i)
			continue
		}
		mb := &member{id: id, msgs: []int{i}}
		index[g][id] = mb
		groups[g] = append(groups[g], mb)
	}
	for _, g := range order {
		for chunk := range slices.Chunk(groups[g], brevo.MaxListMembers) {
			l.apply(ctx, g, chunk, batch, changes, errs)
		}
	}
	return errs
}

// apply sends one call and settles its members' messages.
func (l *Lists) apply(ctx context.Context, g listGroup, chunk []*member, batch []*pipeline.Msg, changes []proto.ListChange, errs []error) {
	var lm brevo.ListMembers
	for _, mb := range chunk {
		if g.byExt {
			lm.ExtIDs = append(lm.ExtIDs, mb.id)
		} else {
			lm.Emails = append(lm.Emails, mb.id)
		}
	}
	call := l.bv.AddToList
	done := ledger.Created
	if g.op == proto.ListRemove {
		call, done = l.bv.RemoveFromList, ledger.Updated
	}
	res, err := call(ctx, g.list, lm)
	var api *brevo.APIError
	switch {
	case err == nil:
	case errors.As(err, &api) && api.Status == 400:
		// Brevo refuses the whole call (400 invalid_parameter, "Contact
		// already in list and/or does not exist") when no contact could be
		// changed: every one is a failure, to be looked at one by one. The
		// code is not required: a body cut short still is that answer, and
		// the look-up tells what each contact needs.
		res = brevo.ListResult{}
		for _, mb := range chunk {
			res.Failure = append(res.Failure, mb.id)
		}
	case errors.As(err, &api) && api.Status == 404:
		for _, mb := range chunk {
			l.settle(mb, batch, errs, pipeline.Permanent(ReasonListNotFound,
				fmt.Errorf("list %d: Brevo has no such list (check connectors.braze.lists): %w", g.list, err)), ledger.Refused)
		}
		return
	default:
		for _, mb := range chunk {
			l.settle(mb, batch, errs, listFate(fmt.Errorf("%s %d contacts (list %d): %w", g.op, len(chunk), g.list, err)), ledger.Refused)
		}
		return
	}
	failed := map[string]bool{}
	for _, f := range res.Failure {
		failed[f] = true
	}
	var doubts []*member
	for _, mb := range chunk {
		if !failed[mb.id] {
			for _, i := range mb.msgs {
				batch[i].Settle(done, 0)
			}
			continue
		}
		doubts = append(doubts, mb)
	}
	// A redelivered batch (its process killed after the call, the answer
	// lost) finds most of its contacts already so: looked up one after
	// another, a round trip each, a call's 150 would take longer than the
	// contacts bucket allows. The bucket's limiter paces them; each
	// member's messages are its own, so the look-ups share nothing else.
	sem := make(chan struct{}, verifyConcurrency)
	var wg sync.WaitGroup
	for _, mb := range doubts {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			l.verify(ctx, g, mb, batch, changes, errs)
		})
	}
	wg.Wait()
}

// verifyConcurrency is how many contacts of a list call's failures are
// looked up at once.
const verifyConcurrency = 8

// verify finds out why Brevo did not change a contact: already so (done,
// unchanged), no such contact (retried a few deliveries, then dead-lettered
// per contact), or neither (retried, then dead-lettered brevo_refused).
func (l *Lists) verify(ctx context.Context, g listGroup, mb *member, batch []*pipeline.Msg, changes []proto.ListChange, errs []error) {
	kind, idType := "email", brevo.IdentifierEmail
	if g.byExt {
		kind, idType = "ext_id", brevo.IdentifierExtID
	}
	c := changes[mb.msgs[0]]
	what := fmt.Sprintf("list %d: Brevo did not %s contact %s %s (braze user %s; it was in the call's failure list)",
		g.list, g.op, kind, mb.id, c.BrazeID)
	info, err := l.bv.Contact(ctx, mb.id, idType)
	var api *brevo.APIError
	switch {
	case errors.As(err, &api) && api.Status == 404 && g.op == proto.ListRemove:
		l.settleAll(mb, batch, ledger.Unchanged) // no contact: not in the list
	case errors.As(err, &api) && api.Status == 404:
		cause := fmt.Errorf("%s: the contact does not exist", what)
		for _, i := range mb.msgs {
			if batch[i].NumDelivered < uint64(l.cfg.UnknownContactRetries) {
				errs[i] = cause // the users sync may create it meanwhile
				continue
			}
			batch[i].Settle(0, ledger.Refused)
			errs[i] = pipeline.Permanent(ReasonContactNotFound, fmt.Errorf("%w; once the users sync has created it, `tajo dlq replay` adds it", cause))
		}
	case err != nil:
		for _, i := range mb.msgs {
			errs[i] = listFate(fmt.Errorf("%s; reading the contact: %w", what, err))
		}
	case slices.Contains(info.ListIDs, g.list) == (g.op == proto.ListAdd):
		l.settleAll(mb, batch, ledger.Unchanged) // already as asked
	default:
		cause := fmt.Errorf("%s, although it exists (Brevo id %d)", what, info.ID)
		for _, i := range mb.msgs {
			if batch[i].NumDelivered < uint64(l.cfg.UnknownContactRetries) {
				errs[i] = cause
				continue
			}
			batch[i].Settle(0, ledger.Refused)
			errs[i] = pipeline.Permanent(ReasonBrevoRefused, cause)
		}
	}
}

func (l *Lists) settleAll(mb *member, batch []*pipeline.Msg, o ledger.Outcome) {
	for _, i := range mb.msgs {
		batch[i].Settle(o, 0)
	}
}

// settle gives every message of mb the error err; a permanent one keeps
// flags in the ledger.
func (l *Lists) settle(mb *member, batch []*pipeline.Msg, errs []error, err error, flags ledger.Flags) {
	var perm *pipeline.PermanentError
	for _, i := range mb.msgs {
		if errors.As(err, &perm) {
			batch[i].Settle(0, flags)
		}
		errs[i] = err
	}
}

// listFate turns a Brevo call's failure into the fate of the list changes
// it carried: a throttle waits for the reset; what may pass on a retry (a
// 5xx, a reset, a circuit breaker refusing calls while Brevo fails) backs
// off; the rest is dead-lettered with Brevo's answer.
func listFate(err error) error {
	switch {
	case brevo.RetryAfter(err) > 0:
		return pipeline.RetryAfter(brevo.RetryAfter(err), err)
	case resilience.Retryable(err):
		return err
	default:
		return pipeline.Permanent(ReasonBrevoRefused, err)
	}
}
