package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/secrets"
	"github.com/tajo-sync/tajo/services/gateway"
	"github.com/tajo-sync/tajo/tools/sandbox"
)

// TestInstallRegistersBrevoWebhook: install --webhook-url registers Brevo's
// contact webhooks at the gateway's route, with the token it stores: what
// Brevo then sends carries it. Run again, it replaces its webhook rather
// than add a second one.
func TestInstallRegistersBrevoWebhook(t *testing.T) {
	home := t.TempDir()
	t.Setenv(config.EnvHome, home)
	for _, v := range []string{"TAJO_CONFIG", config.EnvBrazeAPIKey, config.EnvBrevoAPIKey, secrets.EnvMasterKey, gateway.EnvBrevoWebhookToken} {
		t.Setenv(v, "")
	}
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Users: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	var mu sync.Mutex
	var got []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)

	f := installFlags{apiKey: sb.BrazeAPIKey, instanceURL: sb.BrazeURL, brevoAPIKey: sb.BrevoAPIKey,
		configPath: filepath.Join(home, "config.yaml"), webhookURL: recv.URL, brevoAPIURL: sb.BrevoURL}
	var out, errOut bytes.Buffer
	for range 2 {
		if err := runInstall(ctx, &out, &errOut, f); err != nil {
			t.Fatalf("install: %v\n%s%s", err, &out, &errOut)
		}
	}
	st, err := secrets.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	creds, _, err := st.Get("braze")
	if err != nil || creds.BrevoWebhookToken == "" {
		t.Fatalf("stored token %q (%v)", creds.BrevoWebhookToken, err)
	}
	c, _ := brevo.New(brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey})
	hooks, err := c.Webhooks(ctx, "marketing")
	if err != nil || len(hooks) != 1 || hooks[0].URL != recv.URL+"/v1/brevo/webhooks" {
		t.Fatalf("webhooks %+v (%v): want one, at the gateway's route", hooks, err)
	}
	l, err := c.EnsureList(ctx, "newsletter")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpsertContact(ctx, brevo.Contact{Email: "a@example.com", ListIDs: []int64{l.ID}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 || got[0] != "/v1/brevo/webhooks Bearer "+creds.BrevoWebhookToken {
		t.Fatalf("Brevo sent %v; want the stored token on the gateway's route", got)
	}
	if bytes.Contains(out.Bytes(), []byte(creds.BrevoWebhookToken)) {
		t.Error("install printed the webhook token")
	}
}
