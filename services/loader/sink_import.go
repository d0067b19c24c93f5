package loader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/restcall"
	"github.com/tajo-sync/tajo/pkg/state"
)

// Importer is what imports need from a Brevo client.
type Importer interface {
	ImportFromBatch(ctx context.Context, b *brevo.ImportBatch, o brevo.ImportOptions) (processID int64, err error)
}

// importSink writes rows through POST /contacts/import: as few imports as
// the body limit allows, one at a time (mu in this process, the import
// lease across replicas, as Brevo requires), each waited for until Brevo
// completed it (tracker). A part Brevo refuses for good is bisected
// (bisection) until the rows at fault are found, so one bad row never sinks
// the others.
type importSink struct {
	brevo    Importer
	lists    []int64
	state    *state.Store
	instance string
	track    *tracker
	one      Sink // below threshold rows, bisection writes them one by one
	// threshold is the fewest rows worth an import when bisecting.
	threshold int
	log       *slog.Logger
	// imported is told each import's rows and polls (tests, the bench).
	imported func(rows, bytes, polls int)
	// waiting is called with an import's rows as its wait begins (tests).
	waiting func(*Rows)

	mu    sync.Mutex // one import at a time in this process; guards batch
	batch *brevo.ImportBatch
	// records keeps each import Brevo accepted until its writes are
	// recorded (importlog.go).
	records *importLog
}

var _ Sink = (*importSink)(nil)

func (s *importSink) Write(ctx context.Context, rows *Rows) []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.write(ctx, rows)
}

// write imports rows in parts within the body limit, but for those an
// earlier delivery's import wrote; call with mu held.
func (s *importSink) write(ctx context.Context, rows *Rows) []Result {
	out := make([]Result, rows.Len())
	earlier, err := s.records.imported(ctx, rows, s.track)
	if err != nil {
		// Imported without the records, rows a stopped loader's import
		// wrote would be written again (a server restarting is when it
		// happens): they are retried instead.
		err = classify(fmt.Errorf("reading the records of earlier imports: %w", err))
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	written := func(i int) bool {
		if earlier == nil || earlier[i] == 0 {
			return false
		}
		out[i] = Result{Import: earlier[i], Earlier: true}
		return true
	}
	if n := countNonZero(earlier); n > 0 {
		s.log.Info("rows an earlier delivery's import wrote are not imported again", "rows", n)
	}
	for i := 0; i < rows.Len(); {
		s.batch.Reset()
		var part []int
		for ; i < rows.Len(); i++ {
			if written(i) {
				continue
			}
			ok, err := s.batch.AddRow(rows.Row(i))
			if err != nil {
				out[i].Err = pipeline.Permanent("contact_too_large", fmt.Errorf("importing contact %s: %w", rows.Meta(i).Key, err))
				continue
			}
			if !ok {
				break
			}
			part = append(part, i)
		}
		if len(part) == 0 {
			continue
		}
		id, err := s.importBatch(ctx, rows, part)
		var pe *pipeline.PermanentError
		switch {
		case err == nil:
			for _, k := range part {
				out[k].Import = id
			}
		case errors.As(err, &pe):
			s.log.Warn("Brevo refused an import; bisecting it to find the rows at fault", "contacts", len(part), "err", err)
			for k, r := range s.bisect(ctx, rows.subset(part)) {
				out[part[k]] = r
			}
		default:
			for _, k := range part {
				out[k].Err = err
			}
		}
	}
	return out
}

// bisection is the path of a refused import: each half is imported again,
// and below the threshold rows go one by one, where Brevo's answer names
// the row at fault. It is a Sink of its own so that the contract suite
// proves it ends where an import does.
type bisection struct{ imp *importSink }

var _ Sink = bisection{}

func (b bisection) Write(ctx context.Context, rows *Rows) []Result {
	b.imp.mu.Lock()
	defer b.imp.mu.Unlock()
	return b.imp.bisect(ctx, rows)
}

// bisect writes rows as halves; call with mu held.
func (s *importSink) bisect(ctx context.Context, rows *Rows) []Result {
	n := rows.Len()
	if n < max(2, s.threshold) {
		return s.one.Write(ctx, rows)
	}
	lo, hi := make([]int, n/2), make([]int, n-n/2)
	for i := range lo {
		lo[i] = i
	}
	for i := range hi {
		hi[i] = n/2 + i
	}
	return append(s.write(ctx, rows.subset(lo)), s.write(ctx, rows.subset(hi))...)
}

// importLease names the lock that keeps every loader replica to one Brevo
// import at a time; importLeaseTTL is how long a silent holder keeps it.
const (
	importLease    = "brevo.contacts.import"
	importLeaseTTL = 30 * time.Second // refreshed every 7.5 s while importing; a killed holder frees it within 30 s
)

// importBatch imports s.batch (the rows part names) and waits for Brevo
// to complete it, holding the import lease throughout; it returns the
// import's process.
func (s *importSink) importBatch(ctx context.Context, all *Rows, part []int) (int64, error) {
	lease, err := s.state.AcquireLease(ctx, importLease, s.instance, importLeaseTTL)
	if err != nil {
		return 0, fmt.Errorf("waiting for our turn to import: %w", err)
	}
	defer func() {
		if err := lease.Release(context.WithoutCancel(ctx)); err != nil {
			s.log.Warn("releasing the import lease", "err", err)
		}
	}()
	stop := keepLease(ctx, lease, importLeaseTTL/4, s.log)
	defer stop()
	rows, size := s.batch.Len(), s.batch.Size()
	exp, err := s.track.expect()
	if err != nil {
		return 0, fmt.Errorf("importing %d contacts: %w", rows, err)
	}
	defer exp.close()
	s.log.Info("importing", "rows", rows, "bytes", size,
		"fill", fmt.Sprintf("%.0f%%", 100*float64(size)/float64(s.batch.MaxBytes())), "notify", exp.url != "")
	id, err := s.brevo.ImportFromBatch(ctx, s.batch, brevo.ImportOptions{
		ListIDs:                s.lists,
		UpdateExistingContacts: true,
		// Rows hold empty values only for attributes to clear (cleared.go):
		// those must erase what Brevo holds.
		EmptyContactsAttributes: true,
		DisableNotification:     true,
		NotifyURL:               exp.url,
	})
	if err != nil {
		if maybeStarted(err) {
			// The answer was lost (a reset, a cut body, a 5xx after the
			// fact): Brevo may be running the import. The lease is kept
			// until it would surely be done, so no import of this or
			// another replica runs beside it.
			s.holdAfterUncertainImport(ctx, rows)
		}
		return 0, classify(fmt.Errorf("importing %d contacts: %w", rows, err))
	}
	accepted := s.track.clock.Now()
	// Recorded before the wait: a loader stopped during it leaves the
	// record to the next delivery of these rows (importlog.go).
	if err := s.records.record(ctx, id, accepted, all, part); err != nil {
		s.log.Warn("an import was not recorded: stopped before it completes, its rows would be imported again", "process", id, "err", err)
	}
	// Brevo has the rows: neither they nor the body are read again (an
	// import that fails from here is made again from the messages).
	all.release(part)
	s.batch.Release()
	if s.waiting != nil {
		s.waiting(all)
	}
	polls, err := s.track.wait(ctx, exp, id, rows, accepted)
	if s.imported != nil {
		s.imported(rows, size, polls)
	}
	if err != nil {
		return 0, classify(fmt.Errorf("importing %d contacts: %w", rows, err))
	}
	return id, nil
}

// countNonZero counts the processes set in ids.
func countNonZero(ids []int64) int {
	n := 0
	for _, id := range ids {
		if id != 0 {
			n++
		}
	}
	return n
}

// uncertainHold bounds how long the lease is kept after an import request
// whose answer was lost, when Brevo's pace is not known yet (minHold is
// the least).
const (
	uncertainHold = 2 * time.Minute
	minHold       = 2 * time.Second
)

// maybeStarted reports whether an import request that failed may have
// started an import at Brevo: any failure but a 4xx answer (a refusal
// Brevo made before starting anything).
func maybeStarted(err error) bool {
	if s, ok := errors.AsType[*restcall.StatusError](err); ok {
		return s.Status >= 500
	}
	return !errors.Is(err, context.Canceled)
}

// holdAfterUncertainImport waits, holding the import lease, until an
// import of rows rows started by a request whose answer was lost would
// surely be done: twice the learned pace (at least minHold), or
// uncertainHold while nothing is learned.
func (s *importSink) holdAfterUncertainImport(ctx context.Context, rows int) {
	hold := uncertainHold
	if ps, err := s.track.paces(ctx); err == nil {
		if d := ps.surely(rows); d > 0 {
			hold = min(max(2*d, minHold), uncertainHold)
		}
	}
	s.log.Warn("an import request's answer was lost: keeping the import lease until it would be done", "rows", rows, "hold", hold)
	_ = s.track.clock.Sleep(ctx, hold)
}

// keepLease refreshes lease every period until stop is called.
func keepLease(ctx context.Context, lease *state.Lease, period time.Duration, log *slog.Logger) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := lease.Refresh(ctx); err != nil {
					log.Warn("refreshing the import lease", "err", err)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
