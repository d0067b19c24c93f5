// Command transformer maps raw Braze users to Brevo contact upserts. Run as
// many replicas as needed: they share one durable consumer. It connects to
// NATS_URL and reads the same config file as every other service.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/services/transformer"
)

func main() {
	configPath := flag.String("config", "", "config file (default $TAJO_CONFIG, else $TAJO_HOME/config.yaml)")
	instance := flag.String("instance", hostname(), "name of this replica in counters and logs")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, bootstrap.ConfigPath(*configPath), *instance); err != nil {
		fmt.Fprintln(os.Stderr, "transformer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, configPath, instance string) error {
	cfg, err := bootstrap.LoadConfig(configPath)
	if err != nil {
		return err
	}
	log := bootstrap.Logger(os.Stderr, cfg, "transformer")
	m, err := mapping.New(cfg.MappingOptions())
	if err != nil {
		return fmt.Errorf("field mapping: %w", err)
	}
	bus, err := bootstrap.Connect(ctx, bootstrap.NATSURL(cfg), "transformer-"+instance)
	if err != nil {
		return err
	}
	defer bus.Close()
	t, err := transformer.New(ctx, bus.JS, m, bus.State, transformer.Config{
		Instance:    instance,
		BatchWait:   cfg.Pipeline.BatchWait,
		Concurrency: cfg.Pipeline.Concurrency,
		Logger:      log,
	})
	if err != nil {
		return err
	}
	return t.Run(ctx)
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "transformer"
	}
	return h
}
