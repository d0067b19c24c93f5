package bootstrap

import (
	"strings"
	"testing"

	"github.com/tajo-sync/tajo/pkg/config"
	"github.com/tajo-sync/tajo/pkg/secrets"
)

func TestCredentials(t *testing.T) {
	home := t.TempDir()
	t.Setenv(secrets.EnvMasterKey, "")
	st, err := secrets.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(StoredConnector, secrets.Credentials{
		BrazeAPIKey: "stored-braze", BrazeInstanceURL: "https://rest.fra-01.braze.eu", BrevoAPIKey: "stored-brevo",
	}); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		envBraze, envBrevo string
		want               config.Credentials
	}{
		"store only":   {"", "", config.Credentials{BrazeAPIKey: "stored-braze", BrevoAPIKey: "stored-brevo"}},
		"env wins":     {"env-braze", "env-brevo", config.Credentials{BrazeAPIKey: "env-braze", BrevoAPIKey: "env-brevo"}},
		"each its own": {"env-braze", "", config.Credentials{BrazeAPIKey: "env-braze", BrevoAPIKey: "stored-brevo"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(config.EnvBrazeAPIKey, tc.envBraze)
			t.Setenv(config.EnvBrevoAPIKey, tc.envBrevo)
			got, err := Credentials(home)
			if err != nil || got != tc.want {
				t.Fatalf("Credentials: %+v (%q %q) err %v; want %q %q", got, got.BrazeAPIKey, got.BrevoAPIKey, err, tc.want.BrazeAPIKey, tc.want.BrevoAPIKey)
			}
		})
	}

	t.Run("instance url", func(t *testing.T) {
		cfg := config.Default()
		if err := UseStoredInstance(cfg, home); err != nil || cfg.Connectors.Braze.InstanceURL != "https://rest.fra-01.braze.eu" {
			t.Fatalf("empty config: %q, %v", cfg.Connectors.Braze.InstanceURL, err)
		}
		cfg.Connectors.Braze.InstanceURL = "https://rest.iad-02.braze.com"
		if err := UseStoredInstance(cfg, home); err != nil || cfg.Connectors.Braze.InstanceURL != "https://rest.iad-02.braze.com" {
			t.Fatalf("the configured URL must win: %q, %v", cfg.Connectors.Braze.InstanceURL, err)
		}
	})

	t.Run("unreadable store", func(t *testing.T) {
		t.Setenv(config.EnvBrazeAPIKey, "")
		t.Setenv(secrets.EnvMasterKey, strings.Repeat("ab", 32)) // not the key it was written with
		if _, err := Credentials(home); err == nil || !strings.Contains(err.Error(), config.EnvBrazeAPIKey) {
			t.Fatalf("a store that does not decrypt: %v; want an error naming the alternative", err)
		}
		// With both keys in the environment the store is not read.
		t.Setenv(config.EnvBrazeAPIKey, "a")
		t.Setenv(config.EnvBrevoAPIKey, "b")
		if _, err := Credentials(home); err != nil {
			t.Fatalf("env keys with an undecryptable store: %v", err)
		}
	})

	t.Run("no state dir", func(t *testing.T) {
		t.Setenv(config.EnvBrazeAPIKey, "")
		t.Setenv(config.EnvBrevoAPIKey, "")
		got, err := Credentials(t.TempDir() + "/missing")
		if err != nil || got != (config.Credentials{}) {
			t.Fatalf("missing home: %v %v", got, err)
		}
	})
}
