package secrets

// Credentials are what one connector needs to reach both vendors.
// String and GoString redact the keys, so a value printed by mistake does
// not leak them into a log.
type Credentials struct {
	BrazeAPIKey      string `json:"braze_api_key,omitempty"`
	BrazeInstanceURL string `json:"braze_instance_url,omitempty"`
	BrevoAPIKey      string `json:"brevo_api_key,omitempty"`
	// CurrentsToken is the bearer token Braze Currents sends the gateway.
	CurrentsToken string `json:"currents_token,omitempty"`
	// BrevoWebhookToken is the bearer token Brevo's webhooks send the
	// gateway (registered by `tajo connectors install --webhook-url`).
	BrevoWebhookToken string `json:"brevo_webhook_token,omitempty"`
}

func (c Credentials) String() string {
	return "{BrazeAPIKey:" + redact(c.BrazeAPIKey) + " BrazeInstanceURL:" + c.BrazeInstanceURL +
		" BrevoAPIKey:" + redact(c.BrevoAPIKey) + " CurrentsToken:" + redact(c.CurrentsToken) +
		" BrevoWebhookToken:" + redact(c.BrevoWebhookToken) + "}"
}

// GoString keeps %#v from printing the keys.
func (c Credentials) GoString() string { return "secrets.Credentials" + c.String() }

func redact(s string) string {
	if s == "" {
		return "(unset)"
	}
	return "(set)"
}
