package loader

import (
	"context"
	"errors"
	"fmt"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/plan"
	"github.com/tajo-sync/tajo/proto"
)

// A dry run (Config.DryRun) goes through every step of a real one except
// the writes: its sink (planSink) hands the Planner each row a real sink
// would write, as that sink would write it (the same encoded row, the same
// lists), with the operation the loader counts it as (proto.OpCreate or
// OpUpdate, from the connector's fingerprints), and acknowledges it. The
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
	// PlanWrite records one contact write.
	PlanWrite(ctx context.Context, w plan.Write) error
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

func (d dryBrevo) Process(ctx context.Context, id int64) (brevo.Process, error) {
	return d.read.Process(ctx, id)
}

// planSink records rows in the Planner instead of writing them.
type planSink struct {
	planner Planner
	lists   []int64
}

var _ Sink = planSink{}

func (s planSink) Write(ctx context.Context, rows *Rows) []Result {
	out := make([]Result, rows.Len())
	for i := range rows.Len() {
		m := rows.Meta(i)
		c, err := rows.Contact(i)
		if err != nil {
			out[i].Err = pipeline.Permanent("bad_row", err)
			continue
		}
		op := proto.OpUpdate
		if m.Create {
			op = proto.OpCreate
		}
		if err := s.planner.PlanWrite(ctx, plan.Write{Record: m.Key, ExtID: c.ExtID, Email: c.Email, Op: op,
			Attributes: c.Attributes, ListIDs: s.lists, SourceVersion: m.Version}); err != nil {
			// Retried as any transient error is.
			out[i].Err = fmt.Errorf("dry run: recording the write of %s: %w", m.Key, err)
		}
	}
	return out
}
