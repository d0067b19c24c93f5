package app

import (
	"context"

	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
)

// wireAudit makes o.Audit, when set, the observer of both clients (next to
// any observer already there) and has it stamp entries with the users run
// in progress. It must run before the clients are built.
func (o *Options) wireAudit(ctx context.Context, st *state.Store) error {
	if o.Audit == nil {
		return nil
	}
	if err := o.Audit.FollowRuns(ctx, st.KeyValue(), extractor.Resource); err != nil {
		return err
	}
	// In one process the extractor is the only Braze caller and the loader
	// the only Brevo caller.
	o.Braze.Observer = chain(o.Braze.Observer, o.Audit.Observer(proto.StageExtractor))
	o.Brevo.Observer = chain(o.Brevo.Observer, o.Audit.Observer(proto.StageLoader))
	return nil
}

// chain calls a (if any), then b.
func chain[C any](a, b func(C)) func(C) {
	if a == nil {
		return b
	}
	return func(c C) { a(c); b(c) }
}
