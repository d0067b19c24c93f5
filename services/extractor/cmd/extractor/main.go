// Command extractor exports Braze users into the RAW stream: on a schedule
// (connectors.braze.sync.users.interval) and whenever asked on
// tajo.ctl.sync.users (`tajo connectors sync`). It connects to NATS_URL, reads
// the config file, and takes the key from BRAZE_API_KEY or else the credential
// store ($TAJO_HOME/credentials.enc). Run one replica.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/services/extractor"
)

func main() {
	configPath := flag.String("config", "", "config file (default $TAJO_CONFIG, else $TAJO_HOME/config.yaml)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, bootstrap.ConfigPath(*configPath)); err != nil {
		fmt.Fprintln(os.Stderr, "extractor:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, configPath string) error {
	cfg, err := bootstrap.LoadConfig(configPath)
	if err != nil {
		return err
	}
	log := bootstrap.Logger(os.Stderr, cfg, "extractor")
	creds, err := bootstrap.Credentials(config.Home())
	if err != nil {
		return err
	}
	key := creds.BrazeAPIKey
	if key == "" {
		return errors.New("no Braze API key: export " + config.EnvBrazeAPIKey + " or run `tajo connectors install braze`")
	}
	if err := bootstrap.UseStoredInstance(cfg, config.Home()); err != nil {
		return err
	}
	m, err := mapping.New(cfg.MappingOptions())
	if err != nil {
		return fmt.Errorf("field mapping: %w", err)
	}
	fields, custom := m.ExportFields()
	bus, err := bootstrap.Connect(ctx, bootstrap.NATSURL(cfg), "extractor")
	if err != nil {
		return err
	}
	defer bus.Close()
	rec, err := bus.Audit(ctx, cfg, log, extractor.Resource)
	if err != nil {
		return err
	}
	bc := bootstrap.BrazeConfig(cfg, key)
	bc.Observer = rec.Braze("extractor")
	guard, err := bootstrap.GuardBraze(cfg.Resilience, &bc, log)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	defer bootstrap.ReportHealth(ctx, bus.State, "extractor", host, log, guard)()
	client, err := braze.New(bc)
	if err != nil {
		return err
	}
	e, err := extractor.New(bus.JS, client, bus.State, extractor.Config{
		Segment:                  cfg.Connectors.Braze.Sync.Users.SegmentID,
		FieldsToExport:           fields,
		CustomAttributesToExport: custom,
		TempDir:                  os.Getenv("TMPDIR"),
		Logger:                   log,
	})
	if err != nil {
		return err
	}
	return e.Run(ctx, bus.NC, cfg.Connectors.Braze.Sync.Users.Interval)
}
