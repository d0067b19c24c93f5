package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/services/gateway"
)

// The Brevo → Braze direction learns of Brevo's changes by polling, and at
// once through Brevo's webhooks when the gateway is reachable from Brevo:
// `tajo connectors install braze --webhook-url https://tajo.example.com`
// registers a marketing webhook (contactUpdated, unsubscribed,
// contactDeleted, listAddition) that POSTs to <url>/v1/brevo/webhooks with
// a bearer token stored, encrypted, with the keys.

// webhookPath is the gateway route Brevo's webhooks are sent to.
const webhookPath = "/v1/brevo/webhooks"

// webhookTarget checks --webhook-url: the gateway's public base URL (the
// route is appended when absent), https, or http for a loopback host.
func webhookTarget(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("--webhook-url %q is not a URL; example: https://tajo.example.com", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && config.IsLoopbackHost(u.Hostname()):
	case u.Scheme == "http":
		return "", fmt.Errorf("--webhook-url must be https (plain http would send the webhook token in clear), got %q", raw)
	default:
		return "", fmt.Errorf("--webhook-url must be an https URL, got %q", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("--webhook-url must hold no credentials: the token is sent as a bearer token")
	}
	if !strings.HasSuffix(u.Path, webhookPath) {
		u.Path = strings.TrimRight(u.Path, "/") + webhookPath
	}
	return u.String(), nil
}

// webhookToken is the token to register: TAJO_BREVO_WEBHOOK_TOKEN, the one
// stored by a previous install, or a new random one.
func webhookToken(prev string) string {
	if t := strings.TrimSpace(os.Getenv(gateway.EnvBrevoWebhookToken)); t != "" {
		return t
	}
	if prev != "" {
		return prev
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "tajo_whk_" + hex.EncodeToString(b)
}

// registerWebhook registers target with Brevo at apiURL, unless a webhook
// with that URL is registered already (an install run again).
func registerWebhook(ctx context.Context, out io.Writer, apiURL, brevoKey, target, token string) error {
	c, err := brevo.New(brevo.Config{BaseURL: apiURL, APIKey: brevoKey})
	if err != nil {
		return fmt.Errorf("registering the Brevo webhook: %w", err)
	}
	hooks, err := c.Webhooks(ctx, "marketing")
	if err != nil {
		return fmt.Errorf("registering the Brevo webhook: listing Brevo's webhooks: %w", err)
	}
	for _, h := range hooks {
		if h.URL == target {
			// Brevo shows no token: delete and register again, so that the
			// token stored is the one it sends.
			if err := c.DeleteWebhook(ctx, h.ID); err != nil {
				return fmt.Errorf("replacing Brevo webhook %d: %w", h.ID, err)
			}
		}
	}
	id, err := c.CreateWebhook(ctx, brevo.Webhook{URL: target, Events: brevo.ContactWebhookEvents, Token: token,
		Description: "tajo: Brevo contact changes to Braze"})
	if err != nil {
		return fmt.Errorf("registering the Brevo webhook: %w", err)
	}
	fmt.Fprintf(out, "Registered Brevo webhook %d: %s (%s), authenticated with the stored token.\n",
		id, target, strings.Join(brevo.ContactWebhookEvents, ", "))
	return nil
}
