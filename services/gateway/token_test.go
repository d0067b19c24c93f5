package gateway_test

import (
	"testing"

	"github.com/tajo-sync/tajo/pkg/secrets"
	"github.com/tajo-sync/tajo/services/gateway"
)

// The Currents and Brevo webhook tokens: none set, then each from the
// stored credentials, then the environment's winning over them.
func TestTokens(t *testing.T) {
	home := t.TempDir()
	t.Setenv(gateway.EnvCurrentsToken, "")
	t.Setenv(gateway.EnvBrevoWebhookToken, "")
	check := func(when, currents, hook string) {
		t.Helper()
		if got, err := gateway.CurrentsToken(home); err != nil || got != currents {
			t.Errorf("%s: CurrentsToken %q, %v; want %q", when, got, err, currents)
		}
		if got, err := gateway.BrevoWebhookToken(home); err != nil || got != hook {
			t.Errorf("%s: BrevoWebhookToken %q, %v; want %q", when, got, err, hook)
		}
	}
	check("nothing stored", "", "")
	st, err := secrets.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put("braze", secrets.Credentials{CurrentsToken: "stored-currents", BrevoWebhookToken: "stored-hook"}); err != nil {
		t.Fatal(err)
	}
	check("stored", "stored-currents", "stored-hook")
	t.Setenv(gateway.EnvCurrentsToken, " env-currents ")
	t.Setenv(gateway.EnvBrevoWebhookToken, "env-hook")
	check("environment", "env-currents", "env-hook")
}
