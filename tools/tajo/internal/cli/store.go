package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/natsx"
)

// storeConnectTimeout bounds the wait for a NATS server an operator command
// was pointed at: a command that hangs says less than one that fails.
const storeConnectTimeout = 10 * time.Second

// storeFlags are the flags of every command that reads the connector's
// JetStream (dlq, status, ...).
type storeFlags struct {
	configPath string
}

func (f *storeFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.configPath, "config", "",
		"YAML configuration file naming nats.url or nats.store_dir (default $TAJO_CONFIG, else $TAJO_HOME/config.yaml if it exists)")
}

// bus is a connection to the connector's JetStream for an operator
// command, and whatever was started to provide it.
type bus struct {
	NC       *nats.Conn
	JS       jetstream.JetStream
	embedded *natsx.Embedded // nil when connected to NATS_URL / nats.url
	lock     *storeLock
}

// openBus connects an operator command to the connector's JetStream:
// $NATS_URL, else the config's nats.url, else the local store
// (nats.store_dir, default $TAJO_HOME/nats) opened with an embedded server
// on a free loopback port. A store a running tajo holds is not opened twice
// (two servers on one store corrupt it): the error names the URL to reach
// it through instead. cmd names the command in that advice. Close the bus
// when done.
func openBus(ctx context.Context, cmd *cobra.Command, f storeFlags) (_ *bus, err error) {
	cfg, err := bootstrap.LoadConfig(bootstrap.ConfigPath(f.configPath))
	if err != nil {
		return nil, err
	}
	b := &bus{}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	url := bootstrap.NATSURL(cfg)
	if url == "" {
		if url, err = b.startEmbedded(cmd, cfg.NATS.StoreDir); err != nil {
			return nil, err
		}
	}
	cctx, cancel := context.WithTimeout(ctx, storeConnectTimeout)
	defer cancel()
	// A server `tajo run` started on the local store is reached with the
	// credentials it keeps there (readable by its owner only).
	if b.NC, err = natsx.Connect(cctx, url, "tajo-"+strings.ReplaceAll(cmd.CommandPath(), " ", "-"),
		natsx.WithStoreAuth(cfg.NATS.StoreDir)); err != nil {
		return nil, fmt.Errorf("%w; check that the server is up, or unset %s and nats.url to use the local store", err, bootstrap.EnvNATS)
	}
	if b.JS, err = natsx.JetStream(b.NC); err != nil {
		return nil, fmt.Errorf("opening JetStream on %s: %w", natsx.RedactURL(url), err)
	}
	return b, nil
}

// startEmbedded opens the local store dir with an embedded server and
// returns its URL.
func (b *bus) startEmbedded(cmd *cobra.Command, dir string) (string, error) {
	if dir == "" {
		return "", errors.New("no NATS server and no store: set NATS_URL (for example nats://127.0.0.1:4222) or nats.store_dir in the config")
	}
	if _, err := os.Stat(filepath.Join(dir, "jetstream")); err != nil {
		return "", fmt.Errorf("no tajo store at %s (nothing has run here yet?): `tajo run` creates it; "+
			"for a deployment set %s to its NATS server, or nats.store_dir in the config: %w", dir, bootstrap.EnvNATS, err)
	}
	lk, err := lockStore(dir)
	if busy, ok := errors.AsType[*storeBusyError](err); ok && busy.URL != "" {
		return "", fmt.Errorf("%w; run `%s=%s %s` to read it through that server", err, bootstrap.EnvNATS, busy.URL, cmd.CommandPath())
	}
	if err != nil {
		return "", err
	}
	b.lock = lk
	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: dir, Host: "127.0.0.1"})
	if err != nil {
		return "", fmt.Errorf("opening the store %s: %w", dir, err)
	}
	b.embedded = srv
	if err := lk.publish(srv.ClientURL()); err != nil {
		return "", err
	}
	return srv.ClientURL(), nil
}

// Close drains the connection, then stops the embedded server and releases
// the store, in that order.
func (b *bus) Close() {
	if b.NC != nil {
		if err := drain(b.NC); err != nil {
			b.NC.Close()
		}
	}
	if b.embedded != nil {
		b.embedded.Shutdown()
	}
	if b.lock != nil {
		_ = b.lock.unlock()
	}
}
