package chaos

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/services/transformer"
	"github.com/tajo-sync/tajo/tools/sandbox"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// referenceResult is the fault-free run's outcome.
type referenceResult struct {
	snap     *Snapshot
	summary  app.Summary
	duration time.Duration
}

// runReference syncs the same users with no faults and no chaos: every
// stage in this process on an embedded server, configured from a config
// file of the same shape as the workers read, so both runs map alike.
func runReference(ctx context.Context, o Options, dir string) (*referenceResult, error) {
	sb, err := sandbox.Start(ctx, sandbox.Options{Users: o.Users, Seed: o.Seed, RateLimits: true})
	if err != nil {
		return nil, fmt.Errorf("starting the reference sandbox: %w", err)
	}
	defer sb.Close()
	ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: filepath.Join(dir, "reference-nats")})
	if err != nil {
		return nil, fmt.Errorf("starting the reference's embedded server: %w", err)
	}
	defer ns.Shutdown()
	nc, err := natsx.Connect(ctx, ns.ClientURL(), "tajo-chaos-reference")
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	path, err := writeConfig(dir, "reference.yaml", sb, o.BatchSize)
	if err != nil {
		return nil, err
	}
	cfg, err := bootstrap.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	p := cfg.Pipeline
	// Warnings and errors go to logs/reference.log beside the chaos run's.
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err == nil {
		if f, err := os.Create(filepath.Join(dir, "logs", "reference.log")); err == nil {
			defer f.Close()
			logger = slog.New(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelWarn}))
		}
	}
	a, err := app.New(ctx, app.Options{
		NC:          nc,
		Braze:       bootstrap.BrazeConfig(cfg, sb.BrazeAPIKey),
		Brevo:       bootstrap.BrevoConfig(cfg, sb.BrevoAPIKey),
		Mapping:     cfg.MappingOptions(),
		Extractor:   extractor.Config{Segment: cfg.Connectors.Braze.Sync.Users.SegmentID, TempDir: dir},
		Transformer: transformer.Config{Concurrency: p.Concurrency},
		Loader: loader.Config{BatchSize: p.BatchSize, BatchWait: p.BatchWait, ImportThreshold: p.ImportThreshold,
			MaxImportBytes: p.MaxImportBytes, ListIDs: bootstrap.ListIDs(cfg)},
		Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("building the reference pipeline: %w", err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.RunWorkers(wctx) }()
	defer func() { stop(); <-done }()

	start := time.Now()
	sctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	sum, err := a.Sync(sctx, "full", nil)
	if err != nil {
		return nil, fmt.Errorf("the reference sync: %w", err)
	}
	res := &referenceResult{summary: sum, duration: time.Since(start)}
	if res.snap, err = snapshot(ctx, a.JS, sb); err != nil {
		return nil, fmt.Errorf("reading the reference's outcome: %w", err)
	}
	return res, nil
}
