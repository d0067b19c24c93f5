package cli

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tajo-sync/tajo/pkg/apikeys"
	"github.com/tajo-sync/tajo/pkg/secrets"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/gateway"
	"github.com/tajo-sync/tajo/services/transformer"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// gatewayAddrFile holds the address of the gateway `tajo run` serves, for
// `tajo connectors handle-event` and tests (gateway.listen may be port 0).
const gatewayAddrFile = "gateway.addr"

// runAll runs the users pipeline's workers and the events side (gateway,
// events workers) until ctx ends or one fails, then stops both.
func runAll(ctx context.Context, out io.Writer, a *app.App, env *runEnv) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	eo, err := env.eventsOptions(out)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	var eventsErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		if eventsErr = a.RunEvents(ctx, eo); eventsErr != nil {
			cancel()
		}
	}()
	var resErr error
	if env.resources != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resErr = a.RunResources(ctx, *env.resources); resErr != nil {
				cancel()
			}
		}()
	}
	var twoWayErr error
	if a.TwoWay != nil {
		tw, err := a.NewTwoWay(app.TwoWayOptions{Poll: extractor.PollConfig{
			Interval: env.cfg.Connectors.Brevo.TwoWay.PollInterval, Overlap: env.cfg.Connectors.Brevo.TwoWay.Overlap,
			Instance: "tajo"}})
		if err != nil {
			cancel()
			wg.Wait()
			return err
		}
		fmt.Fprintf(out, "Two-way sync: Brevo polled every %s; Brevo's changes to %d fields, and its unsubscribes, are written to Braze.\n",
			env.cfg.Connectors.Brevo.TwoWay.PollInterval, len(a.TwoWay.Policy().Fields()))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if twoWayErr = tw.Run(ctx); twoWayErr != nil {
				cancel()
			}
		}()
	}
	werr := a.RunWorkers(ctx)
	cancel()
	wg.Wait()
	if resErr != nil && !errors.Is(resErr, context.Canceled) {
		werr = errors.Join(werr, fmt.Errorf("catalogs and analytics: %w", resErr))
	}
	if twoWayErr != nil && !errors.Is(twoWayErr, context.Canceled) {
		werr = errors.Join(werr, twoWayErr)
	}
	_ = os.Remove(filepath.Join(env.home, gatewayAddrFile))
	if eventsErr != nil && !errors.Is(eventsErr, context.Canceled) {
		return errors.Join(werr, eventsErr)
	}
	return werr
}

// eventsOptions configures the gateway and the events workers of `tajo run`.
func (e *runEnv) eventsOptions(out io.Writer) (app.EventsOptions, error) {
	token, err := gateway.CurrentsToken(e.home)
	if err != nil {
		return app.EventsOptions{}, err
	}
	if token == "" && e.sandbox != nil {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		token = "sandbox-" + hex.EncodeToString(b)
	}
	store, err := apikeys.Open(e.home)
	if err != nil {
		return app.EventsOptions{}, err
	}
	var keys gateway.KeyVerifier = store
	sessionKey := ""
	if e.sandbox != nil {
		// A key for this run only, never stored: the status page and the
		// API work at once against the sandbox, as its Currents token does.
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		sessionKey = "tajo_sandbox_" + hex.EncodeToString(b)
		keys = sessionKeys{store: store, hash: sha256.Sum256([]byte(sessionKey))}
	}
	hookToken, err := gateway.BrevoWebhookToken(e.home)
	if err != nil {
		return app.EventsOptions{}, err
	}
	twoWay := e.cfg.Connectors.Brevo.TwoWay.Enabled
	if hookToken == "" && e.sandbox != nil && twoWay {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		hookToken = "sandbox-" + hex.EncodeToString(b)
	}
	o, err := e.pipelineOptions()
	if err != nil {
		return app.EventsOptions{}, err
	}
	gc := gateway.FromConfig(e.cfg)
	gc.CurrentsToken, gc.BrevoWebhookToken, gc.Keys = token, hookToken, keys
	listen := gc.Listen
	if ln, err := net.Listen("tcp", listen); err != nil {
		// Another tajo run, or anything else, holds the port: serve on a
		// free loopback port (printed below) rather than not at all.
		fmt.Fprintf(out, "note: gateway.listen %s is not available (%v): the gateway serves on a free loopback port instead.\n", listen, err)
		listen = "127.0.0.1:0"
	} else {
		ln.Close()
	}
	gc.Listen = listen
	eo := app.EventsOptions{
		Gateway:     gc,
		Transformer: transformer.EventsFromConfig(e.cfg),
		Brevo:       o.Brevo,
		Resilience:  o.Resilience,
		Audit:       e.audit,
		Logger:      e.logger,
		Connect:     e.connect,
		Ready: func(addr string) {
			_ = os.WriteFile(filepath.Join(e.home, gatewayAddrFile), []byte(addr+"\n"), 0o600)
			fmt.Fprintf(out, "Gateway: http://%s (Braze Currents: POST /v1/braze/currents; API: /v1/connectors/braze, keys from `tajo apikeys create`)\n", addr)
			if sessionKey != "" {
				fmt.Fprintf(out, "Status page: http://%s/ (sign in with the sandbox API key of this run: %s)\n", addr, sessionKey)
			} else {
				fmt.Fprintf(out, "Status page: http://%s/ (sign in with a key from `tajo apikeys create`)\n", addr)
			}
			if e.sandbox != nil && twoWay {
				// As `tajo connectors install --webhook-url` does against Brevo.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := registerWebhook(ctx, io.Discard, e.sandbox.BrevoURL, e.sandbox.BrevoAPIKey, "http://"+addr+webhookPath, hookToken); err != nil {
					fmt.Fprintf(out, "note: the sandbox's Brevo webhooks are not registered (%v): Brevo's changes arrive by polling only.\n", err)
				} else {
					fmt.Fprintf(out, "Brevo webhooks: the sandbox's Brevo posts contact changes to http://%s%s\n", addr, webhookPath)
				}
			}
			switch {
			case e.sandbox != nil:
				fmt.Fprintf(out, "Sandbox Currents token: %s\n", token)
			case token == "":
				fmt.Fprintf(out, "No Currents token (%s or the stored credential): Currents is answered 401.\n", gateway.EnvCurrentsToken)
			}
		},
	}
	return eo, nil
}

// sessionKeys accepts the stored API keys and, against the sandbox, the
// run's own key (compared in constant time through its hash).
type sessionKeys struct {
	store *apikeys.Store
	hash  [sha256.Size]byte
}

func (k sessionKeys) Verify(key string) (apikeys.Key, error) {
	h := sha256.Sum256([]byte(key))
	if subtle.ConstantTimeCompare(h[:], k.hash[:]) == 1 {
		return apikeys.Key{ID: "sandbox", Name: "tajo run --sandbox (this run only)"}, nil
	}
	return k.store.Verify(key)
}

// connect is the control API's POST /connect: the credentials are stored
// as `tajo connectors install` stores them, used from the next start.
// Against the sandbox nothing is stored.
func (e *runEnv) connect(_ context.Context, req gateway.ConnectRequest) (map[string]any, error) {
	if e.sandbox != nil {
		return map[string]any{"connected": true, "stored": false,
			"message": "running against the sandbox: credentials are not stored"}, nil
	}
	st, err := secrets.Open(e.home)
	if err != nil {
		return nil, err
	}
	cur, _, err := st.Get("braze")
	if err != nil {
		return nil, err
	}
	cur.BrazeAPIKey, cur.BrazeInstanceURL = req.APIKey, req.InstanceURL
	if req.BrevoAPIKey != "" {
		cur.BrevoAPIKey = req.BrevoAPIKey
	}
	if err := st.Put("braze", cur); err != nil {
		return nil, err
	}
	return map[string]any{"connected": true, "stored": true,
		"message": "credentials stored; they are used from the next start of tajo run"}, nil
}
