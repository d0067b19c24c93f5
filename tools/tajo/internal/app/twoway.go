package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/services/transformer"
)

// TwoWayOptions tune the Brevo → Braze workers of one process.
type TwoWayOptions struct {
	// Poll configures the Brevo poller (interval, overlap).
	Poll   extractor.PollConfig
	Logger *slog.Logger
}

// TwoWayWorkers are the Brevo → Braze workers: the poller (in the
// extractor's place), the reverse worker (the transformer's) and the Braze
// writer (the loader's).
type TwoWayWorkers struct {
	Poller  *extractor.Poller
	Reverse *transformer.Reverse
	Writer  *loader.BrazeSink
}

// NewTwoWay builds the Brevo → Braze workers with this process's Braze
// and Brevo clients (behind its rate limiters and breakers). The App must
// have been built with Options.TwoWay.
func (a *App) NewTwoWay(o TwoWayOptions) (*TwoWayWorkers, error) {
	if a.TwoWay == nil {
		return nil, errors.New("app: the two-way sync is off (Options.TwoWay)")
	}
	if o.Logger == nil {
		o.Logger = a.log
	}
	o.Poll.Logger = o.Logger
	p, err := extractor.NewPoller(a.JS, a.State, a.bv, o.Poll)
	if err != nil {
		return nil, err
	}
	r, err := transformer.NewReverse(a.JS, a.TwoWay, transformer.ReverseConfig{Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	w, err := loader.NewBrazeSink(a.JS, a.bz, a.TwoWay, loader.BrazeConfig{Logger: o.Logger, Paused: a.BrazeGuard.Open})
	if err != nil {
		return nil, err
	}
	return &TwoWayWorkers{Poller: p, Reverse: r, Writer: w}, nil
}

// Run runs the three workers until ctx is cancelled or one fails; then it
// stops the others and waits for them.
func (w *TwoWayWorkers) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for _, x := range []struct {
		name string
		run  func(context.Context) error
	}{{"brevo poller", w.Poller.Run}, {"reverse worker", w.Reverse.Run}, {"braze writer", w.Writer.Run}} {
		wg.Go(func() {
			if err := x.run(ctx); err != nil && ctx.Err() == nil {
				once.Do(func() { firstErr = fmt.Errorf("%s: %w", x.name, err) })
				cancel()
			}
		})
	}
	wg.Wait()
	return firstErr
}

// Cycle is one Brevo → Braze pass on demand: a poll, then the wait until
// the reverse worker and the Braze writer have nothing pending.
func (w *TwoWayWorkers) Cycle(ctx context.Context, a *App) error {
	if _, err := w.Poller.PollOnce(ctx); err != nil {
		return err
	}
	return a.WaitTwoWayDrained(ctx)
}

// WaitTwoWayDrained waits until the reverse worker's and the Braze
// writer's consumers have nothing pending nor unacknowledged
// (state.Store.Drained).
func (a *App) WaitTwoWayDrained(ctx context.Context) error {
	for _, c := range []struct{ stream, durable string }{
		{proto.StreamRaw, transformer.ReverseDurable}, {proto.StreamOps, loader.BrazeDurable},
	} {
		for {
			ok, err := a.State.Drained(ctx, a.JS, c.stream, c.durable)
			if err != nil {
				return err
			}
			if ok {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}
