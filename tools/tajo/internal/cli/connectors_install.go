package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/secrets"
)

func init() { registerUnder("connectors", newConnectorsInstallCmd) }

type installFlags struct {
	apiKey, instanceURL, brevoAPIKey, configPath string
	// webhookURL, when set, registers Brevo's webhooks for the two-way
	// sync (connectors_install_webhook.go); brevoAPIURL overrides the
	// config's connectors.brevo.api_url for it.
	webhookURL, brevoAPIURL string
}

func newConnectorsInstallCmd() *cobra.Command {
	var f installFlags
	cmd := &cobra.Command{
		Use:   "install braze",
		Short: "Check a Braze key, store it encrypted and enable the connector",
		Long: `Install the Braze connector: check the instance URL, check the key against it
(GET /segments/list), store the keys encrypted (AES-256-GCM) in
$TAJO_HOME/credentials.enc, and enable connectors.braze in the config file
(--config, else $TAJO_CONFIG, else $TAJO_HOME/config.yaml, created when absent;
comments and other settings are kept).

The master key comes from TAJO_MASTER_KEY (32 bytes, hex or base64), or from
$TAJO_HOME/master.key, created (mode 0600) on the first install. Keys may come
from BRAZE_API_KEY and BREVO_API_KEY instead of flags, so they never appear in
your shell history or the process list.

With --webhook-url (the gateway's public address), Brevo's marketing webhooks
for the two-way sync (connectors.brevo.two_way) are registered with Brevo:
contact updates, unsubscribes, deletions and list additions are POSTed to
<url>/v1/brevo/webhooks with a bearer token stored encrypted with the keys
(or $` + "TAJO_BREVO_WEBHOOK_TOKEN" + `).`,
		Example: `  export BRAZE_API_KEY=... BREVO_API_KEY=xkeysib-...
  tajo connectors install braze --instance-url rest.iad-01.braze.com

  tajo connectors install braze --api-key KEY --instance-url rest.fra-01.braze.eu \
      --brevo-api-key xkeysib-... --config ./tajo.yaml

  tajo connectors install braze --instance-url rest.iad-01.braze.com \
      --webhook-url https://tajo.example.com`,
		Args:      connectorArg,
		ValidArgs: []string{bootstrap.StoredConnector},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInstall(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.apiKey, "api-key", "", "Braze REST API key (default $"+config.EnvBrazeAPIKey+")")
	fl.StringVar(&f.instanceURL, "instance-url", "", "Braze REST endpoint, e.g. rest.iad-01.braze.com (Braze > Settings > APIs and Identifiers)")
	fl.StringVar(&f.brevoAPIKey, "brevo-api-key", "", "Brevo API v3 key (default $"+config.EnvBrevoAPIKey+"; kept from a previous install when absent)")
	fl.StringVar(&f.configPath, "config", "", "config file to enable the connector in (default $TAJO_CONFIG, else $TAJO_HOME/config.yaml)")
	fl.StringVar(&f.webhookURL, "webhook-url", "", "public URL of the gateway: registers Brevo's webhooks for the two-way sync there")
	fl.StringVar(&f.brevoAPIURL, "brevo-api-url", "", "Brevo API base for the webhook registration (default: the config's connectors.brevo.api_url)")
	return cmd
}

// connectorArg accepts the one connector there is, and says so otherwise.
func connectorArg(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("name the connector: tajo connectors <command> %s", bootstrap.StoredConnector)
	}
	if args[0] != bootstrap.StoredConnector {
		return fmt.Errorf("unknown connector %q: the only connector is %s", args[0], bootstrap.StoredConnector)
	}
	return nil
}

func runInstall(ctx context.Context, out, errOut io.Writer, f installFlags) error {
	key := firstNonEmpty(f.apiKey, os.Getenv(config.EnvBrazeAPIKey))
	if key == "" {
		return fmt.Errorf("no Braze API key: pass --api-key or export %s (it then stays out of your shell history)", config.EnvBrazeAPIKey)
	}
	if f.instanceURL == "" {
		return errors.New("no Braze instance: pass --instance-url, e.g. rest.iad-01.braze.com (Braze > Settings > APIs and Identifiers)")
	}
	inst, err := parseInstance(f.instanceURL, "--instance-url")
	if err != nil {
		return err
	}
	for _, w := range inst.warnings {
		fmt.Fprintln(errOut, "warning:", w)
	}
	var hookTarget string
	if f.webhookURL != "" {
		if hookTarget, err = webhookTarget(f.webhookURL); err != nil {
			return err
		}
	}

	fmt.Fprintf(out, "Checking the key against %s ... ", inst.url)
	rec := openCLIAudit(config.Home(), errOut)
	defer rec.close()
	res := newProber(nil, rec).braze(ctx, inst.url, key, "GET", "/segments/list?page=0", nil)
	if !res.ok() {
		fmt.Fprintln(out, "failed")
		return fmt.Errorf("the key was not accepted: %s; nothing was stored", brazeRemedy(res, "segments.list"))
	}
	fmt.Fprintln(out, "ok")

	home := config.Home()
	store, err := secrets.Open(home)
	if err != nil {
		return err
	}
	prev, _, err := store.Get(bootstrap.StoredConnector)
	if err != nil {
		return err
	}
	creds := secrets.Credentials{
		BrazeAPIKey:       key,
		BrazeInstanceURL:  inst.url,
		BrevoAPIKey:       firstNonEmpty(f.brevoAPIKey, os.Getenv(config.EnvBrevoAPIKey), prev.BrevoAPIKey),
		CurrentsToken:     prev.CurrentsToken,
		BrevoWebhookToken: prev.BrevoWebhookToken,
	}
	if hookTarget != "" {
		if creds.BrevoAPIKey == "" {
			return fmt.Errorf("--webhook-url needs the Brevo key to register the webhook: pass --brevo-api-key or export %s", config.EnvBrevoAPIKey)
		}
		creds.BrevoWebhookToken = webhookToken(prev.BrevoWebhookToken)
	}
	if err := store.Put(bootstrap.StoredConnector, creds); err != nil {
		return fmt.Errorf("storing the credentials: %w", err)
	}
	fmt.Fprintf(out, "Stored the keys encrypted in %s (master key: %s).\n", store.Path(), masterKeySource(home))
	if creds.BrevoAPIKey == "" {
		fmt.Fprintf(out, "No Brevo key yet: run again with --brevo-api-key, or export %s.\n", config.EnvBrevoAPIKey)
	}

	path := installConfigPath(f.configPath, home)
	if hookTarget != "" {
		apiURL := f.brevoAPIURL
		if apiURL == "" {
			apiURL = config.Default().Connectors.Brevo.APIURL
			if cfg, err := config.Load(path); err == nil {
				apiURL = cfg.Connectors.Brevo.APIURL
			}
		}
		if err := registerWebhook(ctx, out, apiURL, creds.BrevoAPIKey, hookTarget, creds.BrevoWebhookToken); err != nil {
			return err
		}
	}
	created, problems, err := enableInConfig(path, inst.url)
	if err != nil {
		return err
	}
	verb := "Enabled connectors.braze in"
	if created {
		verb = "Created"
	}
	fmt.Fprintf(out, "%s %s (instance_url: %s).\n", verb, path, inst.url)
	if problems != nil {
		fmt.Fprintf(errOut, "warning: %s has other problems; fix them before `tajo run` (tajo config validate %s):\n%v\n", path, path, problems)
	}
	fmt.Fprintln(out, "Next: tajo connectors test braze")
	return nil
}

func masterKeySource(home string) string {
	if strings.TrimSpace(os.Getenv(secrets.EnvMasterKey)) != "" {
		return secrets.EnvMasterKey
	}
	return filepath.Join(home, secrets.KeyFileName) + ", keep it with the state directory"
}

// installConfigPath is where install enables the connector: the flag, else
// $TAJO_CONFIG, else $TAJO_HOME/config.yaml whether or not it exists yet.
func installConfigPath(flag, home string) string {
	if p := firstNonEmpty(flag, os.Getenv(bootstrap.EnvConfig)); p != "" {
		return p
	}
	return filepath.Join(home, "config.yaml")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// knownInstance matches Braze's REST endpoints (API notes): US-01..08,
// EU-01 and EU-02, AU-01.
var knownInstance = regexp.MustCompile(`^rest\.(iad-0[1-8]\.braze\.com|fra-0[12]\.braze\.eu|au-01\.braze\.com)$`)

// instance is a checked Braze REST endpoint.
type instance struct {
	url      string // scheme://host[:port], no trailing slash
	warnings []string
}

// parseInstance completes and checks a Braze REST endpoint by the rule
// config validation applies (config.BrazeInstanceURL): https assumed, http
// only for loopback (a simulator, accepted with a note), the host alone. A
// host that is not a known Braze instance is warned about, not refused
// (Braze adds instances). from names where raw came from, for the error.
func parseInstance(raw, from string) (instance, error) {
	u, err := config.BrazeInstanceURL(raw)
	if err != nil {
		return instance{}, fmt.Errorf("%s: %w", from, err)
	}
	if u == "" {
		return instance{}, fmt.Errorf("%s is empty; example: rest.iad-01.braze.com", from)
	}
	parsed, err := url.Parse(u)
	if err != nil { // BrazeInstanceURL only returns URLs that parse
		return instance{}, fmt.Errorf("%s: %w", from, err)
	}
	inst := instance{url: u}
	host := parsed.Hostname()
	if parsed.Scheme == "http" {
		inst.warnings = append(inst.warnings, fmt.Sprintf("%s uses plain http, accepted only because it is a loopback address (a local simulator)", parsed.Host))
	}
	if !knownInstance.MatchString(host) && !config.IsLoopbackHost(host) {
		hint := ""
		if strings.HasPrefix(host, "dashboard") {
			hint = " (that looks like the dashboard's address: the REST endpoint starts with rest.)"
		}
		inst.warnings = append(inst.warnings, fmt.Sprintf("%s is not a known Braze REST endpoint%s; known ones are rest.iad-01 to rest.iad-08.braze.com, "+
			"rest.fra-01.braze.eu, rest.fra-02.braze.eu and rest.au-01.braze.com (Braze > Settings > APIs and Identifiers). Continuing with it.", host, hint))
	}
	return inst, nil
}
