// Command gateway is the connector's HTTP entry point: Braze Currents, the
// page's handleEvent, the status API and status page (read from the bus,
// with vendor checks made with the configured keys), and the control API's
// commands (connect, sync, runs: they need the pipeline, so this binary
// answers them 503; `tajo run` serves them). It connects to NATS_URL,
// reads the same config file as every other service, listens on
// gateway.listen and takes the Currents token from TAJO_CURRENTS_TOKEN or
// the credential store; Brevo's import notifications are authenticated by
// the install's secret in the state bucket (proto.SecretBrevoNotify).
package main

import (
	"context"
	"errors"
	"os"

	"github.com/tajo-sync/tajo/pkg/apikeys"
	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/status"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/gateway"
)

func main() { bootstrap.Main("gateway", run) }

func run(ctx context.Context, f bootstrap.Flags) error {
	cfg, err := bootstrap.LoadConfig(f.ConfigPath)
	if err != nil {
		return err
	}
	log := bootstrap.Logger(os.Stderr, cfg, "gateway")
	token, err := gateway.CurrentsToken(config.Home())
	if err != nil {
		return err
	}
	if token == "" {
		return errors.New("no Currents token: set " + gateway.EnvCurrentsToken + " or store one with `tajo connectors currents-token`")
	}
	// Brevo's webhooks (the two-way sync): answered 401 without a token.
	hookToken, err := gateway.BrevoWebhookToken(config.Home())
	if err != nil {
		return err
	}
	keys, err := apikeys.Open(config.Home())
	if err != nil {
		return err
	}
	tracing, flushSpans, err := bootstrap.Tracing(ctx, "gateway", f.Instance, log)
	if err != nil {
		return err
	}
	defer flushSpans()
	// /metrics, /healthz and /readyz (the container's healthcheck), like
	// every other service.
	ops, err := bootstrap.StartOps(cfg, "gateway", log)
	if err != nil {
		return err
	}
	defer ops.Close()
	bus, err := bootstrap.Connect(ctx, bootstrap.NATSURL(cfg), "gateway-"+f.Instance)
	if err != nil {
		return err
	}
	defer bus.Close()
	ops.Attach(bus.NC, bus.JS)
	rec, err := bus.Audit(ctx, cfg, log, "users")
	if err != nil {
		return err
	}
	// The URL Brevo calls when an import finishes carries the install's
	// secret, which the loaders read from the same place.
	notify, err := bus.State.Secret(ctx, proto.SecretBrevoNotify)
	if err != nil {
		return err
	}
	// The status's vendor checks, with the keys the other services use;
	// their calls are in the audit trail.
	if err := bootstrap.UseStoredInstance(cfg, config.Home()); err != nil {
		return err
	}
	creds, err := bootstrap.Credentials(config.Home())
	if err != nil {
		return err
	}
	bz, bv := bootstrap.BrazeConfig(cfg, creds.BrazeAPIKey), bootstrap.BrevoConfig(cfg, creds.BrevoAPIKey)
	bz.Observer, bv.Observer = rec.Observer("gateway"), rec.Observer("gateway")
	gc := gateway.FromConfig(cfg)
	gc.CurrentsToken, gc.BrevoWebhookToken, gc.NotifyToken = token, hookToken, notify
	gc.Keys, gc.Audit, gc.Logger = keys, rec, log
	gc.VendorChecks = status.KeyReads(bz, bv)
	gc.Tracer, gc.Meter = bootstrap.Tracer(tracing), ops.Metrics
	g, err := gateway.New(bus.NC, gc)
	if err != nil {
		return err
	}
	return g.Run(ctx)
}
