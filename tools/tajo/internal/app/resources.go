package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/tajo-sync/tajo/pkg/audit"
	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/services/transformer"
)

// ResourcesOptions configure the resources beyond users one process syncs:
// catalogs (Braze catalog items into Brevo products) and the campaign and
// Canvas analytics.
type ResourcesOptions struct {
	// Braze and Brevo configure the clients; each gets a guard of its own
	// (the catalog endpoints and /products have budgets of their own).
	Braze      braze.Config
	Brevo      brevo.Config
	Resilience resilience.Config

	// Catalogs, when set, syncs catalogs: the extractor's schedule (or one
	// run with Once), the transformer's and the loader's workers.
	Catalogs            *extractor.CatalogsConfig
	CatalogsTransformer transformer.CatalogsConfig
	Products            loader.ProductsConfig

	// Analytics, when set, reads campaign and Canvas analytics (and
	// Brevo's email campaign statistics when it says so).
	Analytics *extractor.AnalyticsConfig

	// Once runs each sync once, then returns (tajo run --once);
	// otherwise every sync runs on its schedule until ctx is done.
	Once bool
	// Finished, when set, is told of every run that ends.
	Finished func(*proto.SyncRun)

	Audit  *audit.Recorder
	Logger *slog.Logger
}

// RunResources runs the catalog and analytics syncs o switches on until ctx
// is done (or, with Once, until each ran once); nothing when none is on.
func (a *App) RunResources(ctx context.Context, o ResourcesOptions) error {
	if o.Catalogs == nil && o.Analytics == nil {
		return nil
	}
	if o.Logger == nil {
		o.Logger = a.log
	}
	if _, err := bootstrap.GuardBraze(o.Resilience, &o.Braze, o.Logger); err != nil {
		return err
	}
	if _, err := bootstrap.GuardBrevo(o.Resilience, &o.Brevo, o.Logger); err != nil {
		return err
	}
	if o.Audit != nil {
		o.Braze.Observer = chain(o.Braze.Observer, o.Audit.Observer(proto.StageExtractor))
		o.Brevo.Observer = chain(o.Brevo.Observer, o.Audit.Observer(proto.StageLoader))
	}
	bz, err := braze.New(o.Braze)
	if err != nil {
		return fmt.Errorf("configuring the Braze client of the resources: %w", err)
	}
	bv, err := brevo.New(o.Brevo)
	if err != nil {
		return fmt.Errorf("configuring the Brevo client of the resources: %w", err)
	}
	host, _ := os.Hostname()

	// Workers run until ctx is done (or, with Once, until the jobs are).
	wctx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	var workers []func(context.Context) error
	var jobs []func(context.Context) error
	finished := func(r *proto.SyncRun) {
		if o.Finished != nil && r != nil {
			o.Finished(r)
		}
	}
	if o.Catalogs != nil {
		cfg := *o.Catalogs
		cfg.Logger = o.Logger
		cs, err := extractor.NewCatalogs(ctx, a.JS, bz, a.State, cfg)
		if err != nil {
			return err
		}
		tc := o.CatalogsTransformer
		tc.Logger = o.Logger
		tr, err := transformer.NewCatalogs(ctx, a.JS, tc)
		if err != nil {
			return err
		}
		pc := o.Products
		pc.Logger = o.Logger
		ld, err := loader.NewProducts(ctx, a.JS, bv, pc)
		if err != nil {
			return err
		}
		workers = append(workers, tr.Run, ld.Run)
		if o.Once {
			jobs = append(jobs, func(ctx context.Context) error {
				r, err := cs.Sync(ctx)
				finished(r)
				return err
			})
		} else {
			jobs = append(jobs, func(ctx context.Context) error { return cs.Run(ctx, host, finished) })
		}
	}
	if o.Analytics != nil {
		cfg := *o.Analytics
		cfg.Logger = o.Logger
		var abv extractor.AnalyticsBrevo
		if cfg.BrevoStatistics {
			abv = bv
		}
		an, err := extractor.NewAnalytics(ctx, a.JS, bz, abv, a.State, cfg)
		if err != nil {
			return err
		}
		if o.Once {
			jobs = append(jobs, func(ctx context.Context) error {
				runs, err := an.Sync(ctx)
				for _, r := range runs {
					finished(r)
				}
				return err
			})
		} else {
			jobs = append(jobs, func(ctx context.Context) error { return an.Run(ctx, host, finished) })
		}
	}
	var wg sync.WaitGroup
	werrs := make(chan error, len(workers))
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w(wctx); err != nil && wctx.Err() == nil {
				werrs <- err
				stopWorkers()
			}
		}()
	}
	var jerrs []error
	var jmu sync.Mutex
	var jwg sync.WaitGroup
	for _, j := range jobs {
		jwg.Add(1)
		go func() {
			defer jwg.Done()
			if err := j(wctx); err != nil && wctx.Err() == nil {
				jmu.Lock()
				jerrs = append(jerrs, err)
				jmu.Unlock()
			}
		}()
	}
	jwg.Wait()
	if o.Once {
		stopWorkers()
	}
	wg.Wait()
	close(werrs)
	var errs []error
	for err := range werrs {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if o.Once {
		return errors.Join(jerrs...)
	}
	return nil
}
