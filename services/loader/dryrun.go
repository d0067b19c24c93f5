package loader

import (
	"context"
	"errors"
	"fmt"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/proto"
)

// A dry run (Config.DryRun) goes through every step of a real one except
// the writes: each upsert the loader would send to Brevo is handed to the
// Planner, with the operation it would be counted as (proto.OpCreate or
// OpUpdate, from the connector's fingerprints), and acknowledged. The
// counters of the run are kept as in a real run, so its summary reads as
// the plan's totals.
//
// A dry run runs on a temporary server holding a copy of the connector's
// memory: it records fingerprints and identifier claims there as a real run
// would, so a later record with the same email is refused exactly as a real
// run would refuse it, and the deployment's memory is left alone.
// Reads of Brevo (its attributes) still happen; the Brevo client is wrapped
// so that no write can reach Brevo even by mistake.

// Planner records what a dry run would write. Implementations must be safe
// for concurrent use: two batches are in flight at once.
type Planner interface {
	// PlanUpsert records one contact upsert.
	PlanUpsert(ctx context.Context, up proto.ContactUpsert) error
	// PlanAttribute records a Brevo contact attribute that would be created.
	PlanAttribute(ctx context.Context, name, typ string) error
}

// ErrDryRunWrite is returned by the dry-run Brevo client for a write that
// reached it: a bug, since the dry-run path records writes instead.
var ErrDryRunWrite = errors.New("dry run: a write to Brevo was attempted and refused")

// dryRunBrevo wraps b so that reads pass and writes are recorded or refused.
func dryRunBrevo(b Brevo, p Planner) (Brevo, error) {
	if p == nil {
		return nil, errors.New("a dry run needs a Planner to record what it would write")
	}
	return dryBrevo{read: b, plan: p}, nil
}

type dryBrevo struct {
	read Brevo
	plan Planner
}

func (d dryBrevo) Attributes(ctx context.Context) ([]brevo.Attribute, error) {
	return d.read.Attributes(ctx)
}

func (d dryBrevo) CreateAttribute(ctx context.Context, _, name, typ string) error {
	return d.plan.PlanAttribute(ctx, name, typ)
}

// EnsureList does not look the list up: Brevo offers no read of a list by
// name, and the dry run writes no contact that would join it.
func (d dryBrevo) EnsureList(_ context.Context, name string) (brevo.List, error) {
	return brevo.List{Name: name}, nil
}

func (d dryBrevo) UpsertContact(context.Context, brevo.Contact) (bool, error) {
	return false, ErrDryRunWrite
}

func (d dryBrevo) ImportFromBatch(context.Context, *brevo.ImportBatch, brevo.ImportOptions) (int64, error) {
	return 0, ErrDryRunWrite
}

func (d dryBrevo) WaitProcess(context.Context, int64, brevo.Backoff) (brevo.Process, error) {
	return brevo.Process{}, ErrDryRunWrite
}

// planAll hands every item to the planner instead of writing it and returns
// those recorded; a planner failure is retried as any transient error is.
func (l *Loader) planAll(ctx context.Context, items []*item, errs []error) []*item {
	done := make([]*item, 0, len(items))
	for _, it := range items {
		if err := l.cfg.Planner.PlanUpsert(ctx, it.up); err != nil {
			errs[it.idx] = fmt.Errorf("dry run: recording the upsert of %s: %w", it.up.Key, err)
			continue
		}
		done = append(done, it)
	}
	return done
}
