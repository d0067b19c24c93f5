package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/audit"
	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/logging"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/tools/sandbox"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// sandboxSeed fixes the generated users, so two demo runs show the same data.
const sandboxSeed = 1

// sandboxInterval is the pause between incremental syncs against the
// sandbox: short enough to watch one happen.
const sandboxInterval = time.Minute

// sandboxListID is the list a fresh Brevo account comes with.
const sandboxListID = 2

// runEnv is everything `tajo run` starts before the pipeline itself, and how
// to stop it again.
type runEnv struct {
	home       string
	configPath string // "" when running on the defaults
	cfg        *config.Config
	creds      config.Credentials
	sandbox    *sandbox.Sandbox // nil against the real vendors
	nats       *natsx.Embedded  // nil when connecting to an external server
	natsURL    string
	storeDir   string
	nc         *nats.Conn
	logPath    string
	logFile    *os.File
	logger     *slog.Logger
	audit      *audit.Recorder
	interval   time.Duration  // between scheduled syncs
	fullEvery  time.Duration  // between full re-exports
	closers    []func() error // in start order; closed in reverse
	// resources, when set, are the catalog and analytics syncs runAll runs
	// on their schedules (resources.go).
	resources *app.ResourcesOptions
}

// startEnv loads the configuration, starts the simulators if they are to be
// used, and starts or connects to NATS. On error, what was started is
// stopped again.
func startEnv(ctx context.Context, out io.Writer, f runFlags) (_ *runEnv, err error) {
	env := &runEnv{home: config.Home()}
	defer func() {
		if err != nil {
			err = errors.Join(err, env.close())
		}
	}()
	// Keys from the environment, else from `tajo connectors install`.
	if env.creds, err = bootstrap.Credentials(env.home); err != nil {
		return nil, err
	}
	// The same file the services would read: --config, $TAJO_CONFIG, or
	// $TAJO_HOME/config.yaml when it exists.
	env.configPath = bootstrap.ConfigPath(f.configPath)
	if env.cfg, err = bootstrap.LoadConfig(env.configPath); err != nil {
		return nil, err
	}
	// A connector or resource switched off is not synced, and a key whose
	// feature does not exist yet is said to be ignored.
	if err := errors.Join(env.cfg.UsersSyncOff(), env.cfg.BrevoOff()); err != nil {
		return nil, fmt.Errorf("not syncing: %w", err)
	}
	for _, n := range env.cfg.Notices() {
		fmt.Fprintln(out, "note:", n.Error())
	}
	if err := bootstrap.UseStoredInstance(env.cfg, env.home); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(env.home, 0o700); err != nil {
		return nil, fmt.Errorf("creating the state directory %s: %w", env.home, err)
	}
	if err := env.openLog(); err != nil {
		return nil, err
	}
	env.interval = env.cfg.Connectors.Braze.Sync.Users.Interval
	env.fullEvery = env.cfg.Connectors.Braze.Sync.Users.FullEvery

	useSandbox := f.sandbox || env.creds.BrazeAPIKey == "" || env.creds.BrevoAPIKey == ""
	if useSandbox && !f.sandbox {
		fmt.Fprintf(out, "%s or %s is not set: using the built-in Braze and Brevo simulators (--sandbox).\n",
			config.EnvBrazeAPIKey, config.EnvBrevoAPIKey)
	}
	if useSandbox {
		if err := env.startSandbox(ctx, f); err != nil {
			return nil, err
		}
	}
	if err := env.startNATS(ctx, f); err != nil {
		return nil, err
	}
	env.startAudit()
	return env, nil
}

// openLog sends the workers' logs to a file: on the terminal they would
// tear the progress bar apart.
func (e *runEnv) openLog() error {
	e.logPath = filepath.Join(e.home, "tajo.log")
	f, err := os.OpenFile(e.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening the log file: %w", err)
	}
	e.logFile = f
	e.closers = append(e.closers, f.Close)
	c := e.cfg.Connectors.Braze
	// Text, not JSON: this file is read by a person. Redacting: keys,
	// e-mails and phones never reach it (pkg/logging).
	e.logger = logging.New(f, logging.Options{Format: logging.Text, Level: c.LogLevel, Debug: c.Debug,
		Secrets: []string{e.creds.BrazeAPIKey, e.creds.BrevoAPIKey}})
	return nil
}

// startSandbox starts both simulators on free loopback ports and points the
// configuration and credentials at them.
func (e *runEnv) startSandbox(ctx context.Context, f runFlags) error {
	if f.sandboxUsers < 1 {
		return fmt.Errorf("--sandbox-users %d: want at least 1", f.sandboxUsers)
	}
	opts := sandbox.DefaultOptions()
	opts.Users, opts.Seed = f.sandboxUsers, sandboxSeed
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		return fmt.Errorf("starting the sandbox: %w", err)
	}
	e.sandbox = sb
	e.closers = append(e.closers, sb.Close)
	e.cfg.Connectors.Braze.InstanceURL = sb.BrazeURL
	e.cfg.Connectors.Brevo.APIURL = sb.BrevoURL
	e.creds = config.Credentials{BrazeAPIKey: sb.BrazeAPIKey, BrevoAPIKey: sb.BrevoAPIKey}
	// Brevo imports need a list; a fresh account (and the simulator) has
	// list 2, "Your first list".
	if len(e.cfg.Connectors.Brevo.ListIDs) == 0 {
		e.cfg.Connectors.Brevo.ListIDs = []config.ListID{sandboxListID}
	}
	if err := sandboxLists(ctx, sb, e.cfg); err != nil {
		return err
	}
	if e.configPath == "" {
		e.interval = sandboxInterval
	}
	// The simulator names its key "sandbox": webhooks report the
	// connector's own writes under that name.
	if tw := &e.cfg.Connectors.Brevo.TwoWay; tw.APIKeyName == "" {
		tw.APIKeyName = "sandbox"
	}
	return nil
}

// startNATS connects to nats.url when the configuration names one, and
// otherwise starts an embedded JetStream server on the local store.
func (e *runEnv) startNATS(ctx context.Context, f runFlags) error {
	e.natsURL = bootstrap.NATSURL(e.cfg)
	if e.natsURL == "" {
		e.storeDir = e.cfg.NATS.StoreDir
		if e.storeDir == "" {
			e.storeDir = filepath.Join(e.home, "nats")
		}
		if e.sandbox != nil {
			// The simulators start empty every time, so the connector's
			// memory of what it sent them (fingerprints, claims, runs) must
			// too: kept apart from a real account's, and cleared.
			e.storeDir = filepath.Join(e.home, "sandbox", "nats")
		}
		// The lock keeps other commands (status, dlq, audit) from starting
		// a second server on this store; they read through ours instead.
		lk, err := lockStore(e.storeDir)
		if err != nil {
			return err
		}
		e.closers = append(e.closers, lk.unlock)
		if e.sandbox != nil {
			if err := clearStore(e.storeDir); err != nil {
				return err
			}
		}
		ns, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: e.storeDir, Host: "127.0.0.1", Port: f.natsPort})
		if err != nil {
			return fmt.Errorf("starting the embedded NATS server (is another tajo running? --nats-port 0 picks a free port): %w", err)
		}
		if err := lk.publish(ns.ClientURL()); err != nil {
			ns.Shutdown()
			return err
		}
		e.nats = ns
		e.closers = append(e.closers, func() error { ns.Shutdown(); return nil })
		e.natsURL = ns.ClientURL()
	}
	nc, err := natsx.Connect(ctx, e.natsURL, "tajo-run")
	if err != nil {
		return err // names the URL (without credentials) and the attempts
	}
	e.nc = nc
	e.closers = append(e.closers, func() error { return drain(nc) })
	return nil
}

// clearStore empties dir but for its lock file.
func clearStore(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("clearing the sandbox's NATS store %s: %w", dir, err)
	}
	for _, en := range entries {
		if en.Name() == storeLockName {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, en.Name())); err != nil {
			return fmt.Errorf("clearing the sandbox's NATS store %s: %w", dir, err)
		}
	}
	return nil
}

// startAudit records every vendor call in the AUDIT stream (and, with
// log_api_calls, in the log). It closes before the connection drains; a
// loss of audit entries is logged, not a reason to fail the run.
func (e *runEnv) startAudit() {
	js, err := natsx.JetStream(e.nc)
	if err != nil {
		e.logger.Warn("vendor calls are not audited: opening JetStream failed", "err", err)
		return
	}
	spool := bootstrap.AuditSpool(e.home)
	if e.sandbox != nil {
		// The sandbox's store is cleared at every start: the real calls
		// waiting in the spool must not be shipped there.
		spool = bootstrap.AuditSpool(filepath.Join(e.home, "sandbox"))
	}
	rec := audit.New(js, audit.Options{Logger: e.logger, LogCalls: e.cfg.Connectors.Braze.LogAPICalls, Spool: spool})
	e.audit = rec
	e.closers = append(e.closers, func() error {
		if err := rec.Close(context.Background()); err != nil {
			e.logger.Warn("audit log incomplete", "err", err)
		}
		return nil
	})
}

// pipelineOptions are the app's options for what startEnv started, the
// audit recorder included.
func (e *runEnv) pipelineOptions() (app.Options, error) {
	o, err := appOptions(e.cfg, e.creds, e.nc, e.logger)
	o.Audit = e.audit
	o.Segments = segmentsOptions(e.cfg)
	// The configuration was validated: a policy error cannot happen here,
	// and would leave the two-way sync off.
	if p, perr := e.cfg.TwoWayPolicy(); perr == nil {
		o.TwoWay = p
	} else {
		e.logger.Error("the two-way sync is off: its configuration is invalid", "err", perr)
	}
	return o, err
}

// drainWait is a little longer than the drain timeout natsx.Connect sets, so
// the client's own timeout fires first and closes the connection.
const drainWait = 35 * time.Second

// drain flushes what the connection still holds and waits until it closed.
func drain(nc *nats.Conn) error {
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := nc.Drain(); err != nil {
		return fmt.Errorf("draining the NATS connection: %w", err)
	}
	select {
	case <-closed:
		return nil
	case <-time.After(drainWait):
		nc.Close()
		return fmt.Errorf("draining the NATS connection: not done after %s", drainWait)
	}
}

// close stops everything in the reverse order it was started: the
// connection drains before the server stops, the server before the
// simulators.
func (e *runEnv) close() error {
	var errs []error
	for i := len(e.closers) - 1; i >= 0; i-- {
		if err := e.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	e.closers = nil
	return errors.Join(errs...)
}
