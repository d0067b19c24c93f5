package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tajo-sync/tajo/pkg/bootstrap"
	"github.com/tajo-sync/tajo/pkg/config"
)

func init() { registerUnder("connectors", newConnectorsHandleEventCmd) }

// EnvAPIKey holds the Tajo API key CLI commands use against the gateway.
const EnvAPIKey = "TAJO_API_KEY"

type handleEventFlags struct {
	typ, payload, apiKey, gatewayURL, configPath string
}

func newConnectorsHandleEventCmd() *cobra.Command {
	f := handleEventFlags{typ: "user.event"}
	cmd := &cobra.Command{
		Use:   "handle-event braze",
		Short: "Post one event through the running gateway (the page's handleEvent)",
		Long: `Post one event to the running gateway's POST /v1/connectors/braze/events,
as the @tajo/sdk handleEvent call does: it travels the pipeline and lands on
the Brevo contact's timeline. The gateway is the one tajo run serves (its
address is in $TAJO_HOME/gateway.addr), else --gateway-url, else
gateway.listen. The API key comes from --api-key or ` + EnvAPIKey + `.`,
		Example: `  tajo connectors handle-event braze --type user.event \
    --payload '{"external_id":"user_12345","name":"product_viewed","properties":{"product_id":"sku-1"}}'`,
		Args:      connectorArg,
		ValidArgs: []string{bootstrap.StoredConnector},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runHandleEvent(cmd.Context(), cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.typ, "type", f.typ, "event type")
	fl.StringVar(&f.payload, "payload", "", "the event's payload, a JSON object (external_id or email, name, properties)")
	fl.StringVar(&f.apiKey, "api-key", "", "Tajo API key (default $"+EnvAPIKey+")")
	fl.StringVar(&f.gatewayURL, "gateway-url", "", "the gateway's base URL (default: the running tajo run's, else gateway.listen)")
	fl.StringVar(&f.configPath, "config", "", "YAML configuration file (for gateway.listen)")
	return cmd
}

func runHandleEvent(ctx context.Context, out io.Writer, f handleEventFlags) error {
	if f.apiKey == "" {
		f.apiKey = os.Getenv(EnvAPIKey)
	}
	if f.apiKey == "" {
		return fmt.Errorf("no API key: pass --api-key or set %s (create one with `tajo apikeys create`)", EnvAPIKey)
	}
	var payload map[string]any
	if err := json.Unmarshal([]byte(f.payload), &payload); err != nil || payload == nil {
		return fmt.Errorf("--payload must be a JSON object, e.g. '{\"external_id\":\"user_12345\",\"name\":\"product_viewed\"}'")
	}
	base, err := gatewayBase(f)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{"type": f.typ, "payload": payload})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/connectors/braze/events", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("posting the event: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+f.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("posting the event to %s (is tajo run running?): %w", base, err)
	}
	defer resp.Body.Close()
	ans, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("the gateway answered %d: %s", resp.StatusCode, safeText(strings.TrimSpace(string(ans))))
	}
	_, err = fmt.Fprintf(out, "Accepted: %s\n", safeText(strings.TrimSpace(string(ans))))
	return err
}

// gatewayBase is the running gateway's base URL.
func gatewayBase(f handleEventFlags) (string, error) {
	if f.gatewayURL != "" {
		return strings.TrimRight(f.gatewayURL, "/"), nil
	}
	if b, err := os.ReadFile(filepath.Join(config.Home(), gatewayAddrFile)); err == nil {
		return "http://" + strings.TrimSpace(string(b)), nil
	}
	cfg, err := bootstrap.LoadConfig(bootstrap.ConfigPath(f.configPath))
	if err != nil {
		return "", err
	}
	return "http://" + cfg.Gateway.Listen, nil
}
