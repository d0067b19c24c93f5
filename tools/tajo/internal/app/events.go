package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/tajo-sync/tajo/pkg/audit"
	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/gateway"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/services/transformer"
)

// EventsOptions are what the events side of one process needs: the
// gateway, the transformer's and the loader's events workers.
type EventsOptions struct {
	// Gateway is the gateway's configuration (Listen, CurrentsToken, Keys);
	// Control, Audit and Logger are filled in here.
	Gateway gateway.Config
	// Transformer is the events transformer's configuration
	// (transformer.EventsFromConfig); Logger is filled in here.
	Transformer transformer.EventsConfig
	// Brevo and Resilience configure the events client: a guard of its own
	// (Brevo limits /events apart from /contacts).
	Brevo      brevo.Config
	Resilience resilience.Config
	Audit      *audit.Recorder
	Logger     *slog.Logger
	// Connect stores credentials for POST /connect; nil refuses them.
	Connect func(ctx context.Context, req gateway.ConnectRequest) (map[string]any, error)
	// Ready, when set, is told the gateway's address once it listens.
	Ready func(addr string)
}

// RunEvents runs the gateway and both events workers until ctx is
// cancelled or one of them fails; then it stops the others and waits.
func (a *App) RunEvents(ctx context.Context, o EventsOptions) error {
	if o.Logger == nil {
		o.Logger = a.log
	}
	// Traced and measured like the users pipeline: the gateway's requests,
	// both events workers and the Brevo events calls.
	var tIn, lIn pipeline.Instruments
	if a.tracer != nil {
		o.Brevo.Tracer, o.Gateway.Tracer = a.tracer, a.tracer
		tIn.Tracer, lIn.Tracer = a.tracer, a.tracer
	}
	if a.ops != nil {
		o.Brevo.Observer = a.ops.Calls(o.Brevo.Observer)
		o.Gateway.Meter = a.ops.Metrics
		tIn.Meter = a.ops.Metrics.Worker(bootstrap.EventsStage(proto.StageTransformer))
		lIn.Meter = a.ops.Metrics.Worker(bootstrap.EventsStage(proto.StageLoader))
	}
	// A guard of its own: Brevo limits /events apart from /contacts.
	guard, err := bootstrap.GuardBrevo(o.Resilience, &o.Brevo, o.Logger)
	if err != nil {
		return err
	}
	if o.Audit != nil {
		o.Brevo.Observer = chain(o.Brevo.Observer, o.Audit.Observer(proto.StageLoader))
		o.Gateway.Audit = o.Audit
	}
	bv, err := brevo.New(o.Brevo)
	if err != nil {
		return fmt.Errorf("configuring the Brevo events client: %w", err)
	}
	o.Transformer.Logger, o.Transformer.Instruments = o.Logger, tIn
	te, err := transformer.NewEvents(a.JS, o.Transformer)
	if err != nil {
		return err
	}
	// Like the users loader, the events loader stops fetching while a
	// Brevo breaker of its client is open.
	le, err := loader.NewEvents(ctx, a.JS, bv, a.State.KeyValue(), loader.EventsConfig{Logger: o.Logger,
		Paused: guard.Open, Instruments: lIn})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	o.Gateway.Logger = o.Logger
	o.Gateway.Control = &control{a: a, connect: o.Connect, life: ctx}
	// The status API and page read the bus as the standalone gateway does
	// (status.Reader, built by gateway.New), checking the vendors with
	// this process's clients.
	o.Gateway.VendorChecks = a.reads
	if o.Gateway.NotifyToken == "" {
		if o.Gateway.NotifyToken, err = a.State.Secret(ctx, proto.SecretBrevoNotify); err != nil {
			return err
		}
	}
	gw, err := gateway.New(a.nc, o.Gateway)
	if err != nil {
		return err
	}

	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	run := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				once.Do(func() { firstErr = fmt.Errorf("%s: %w", name, err) })
				cancel()
			}
		}()
	}
	run("loader events", le.Run)
	run("transformer events", te.Run)
	run("gateway", gw.Run)
	if o.Ready != nil {
		go waitListening(ctx, gw, o.Ready)
	}
	wg.Wait()
	return firstErr
}
