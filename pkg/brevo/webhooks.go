package brevo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Marketing webhook events the two-way sync subscribes to (Brevo's
// createWebhook names; payloads carry them in snake_case).
var ContactWebhookEvents = []string{"contactUpdated", "unsubscribed", "contactDeleted", "listAddition"}

// Webhook is a webhook to register: Brevo POSTs the events to URL with
// "Authorization: Bearer <Token>".
type Webhook struct {
	URL         string
	Description string
	Events      []string
	Type        string // marketing (default) | transactional
	Token       string
	Batched     bool
}

// WebhookInfo is a registered webhook as GET /webhooks lists it.
type WebhookInfo struct {
	ID          int64    `json:"id"`
	URL         string   `json:"url"`
	Description string   `json:"description"`
	Events      []string `json:"events"`
	Type        string   `json:"type"`
	Batched     bool     `json:"batched"`
}

// CreateWebhook registers w and returns its id.
func (c *Client) CreateWebhook(ctx context.Context, w Webhook) (int64, error) {
	if w.URL == "" || len(w.Events) == 0 {
		return 0, errors.New("brevo: creating a webhook: a URL and events are required")
	}
	if w.Type == "" {
		w.Type = "marketing"
	}
	body := map[string]any{"url": w.URL, "events": w.Events, "type": w.Type, "batched": w.Batched}
	if w.Description != "" {
		body["description"] = w.Description
	}
	if w.Token != "" {
		body["auth"] = map[string]string{"type": "bearer", "token": w.Token}
	}
	var out struct {
		ID int64 `json:"id"`
	}
	if _, err := c.do(ctx, apiCall{method: http.MethodPost, path: "/webhooks", body: body}, &out); err != nil {
		return 0, err
	}
	return out.ID, nil
}

// Webhooks lists the registered webhooks of a type (marketing,
// transactional).
func (c *Client) Webhooks(ctx context.Context, typ string) ([]WebhookInfo, error) {
	var out struct {
		Webhooks []WebhookInfo `json:"webhooks"`
	}
	q := url.Values{"type": {typ}}
	if _, err := c.do(ctx, apiCall{method: http.MethodGet, path: "/webhooks", query: q}, &out); err != nil {
		return nil, err
	}
	return out.Webhooks, nil
}

// DeleteWebhook removes a webhook.
func (c *Client) DeleteWebhook(ctx context.Context, id int64) error {
	if id <= 0 {
		return fmt.Errorf("brevo: deleting webhook %d: not an id", id)
	}
	_, err := c.do(ctx, apiCall{method: http.MethodDelete, path: "/webhooks/" + strconv.FormatInt(id, 10), route: "/webhooks/{webhookId}"}, nil)
	return err
}
