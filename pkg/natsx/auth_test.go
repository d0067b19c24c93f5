package natsx_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
)

// The embedded server refuses a client without its credentials: another
// local user must not read the DLQ or publish upserts.
func TestEmbeddedRefusesClientsWithoutCredentials(t *testing.T) {
	e := natsxtest.Server(t)
	for name, url := range map[string]string{
		"no credentials": e.ClientURL(),
		"wrong password": strings.Replace(e.ClientURL(), "nats://", "nats://tajo:guess@", 1),
		"a token":        strings.Replace(e.ClientURL(), "nats://", "nats://guess@", 1),
	} {
		t.Run(name, func(t *testing.T) {
			nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
			if err == nil {
				nc.Close()
				t.Fatal("connected without the server's credentials")
			}
			if !errors.Is(err, nats.ErrAuthorization) {
				t.Fatalf("want an authorization violation, got %v", err)
			}
		})
	}

	t.Run("natsx.Connect fails fast and names no secret", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		_, err := natsx.Connect(ctx, strings.Replace(e.ClientURL(), "nats://", "nats://tajo:hunter2@", 1), "t")
		if err == nil || !errors.Is(err, nats.ErrAuthorization) || strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("want a refusal without the password in it, got %v", err)
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("a refusal was retried for %v", time.Since(start))
		}
	})

	t.Run("with credentials", func(t *testing.T) {
		nc, err := nats.Connect(e.AuthURL())
		if err != nil {
			t.Fatalf("AuthURL: %v", err)
		}
		nc.Close()
		// In this process Connect knows the server's credentials.
		natsxtest.Conn(t, e)
	})
}

// The credentials are kept in a file only the owner reads, and the
// operator's commands in another process find them there.
func TestEmbeddedAuthFile(t *testing.T) {
	dir := t.TempDir()
	e, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, natsx.AuthFileName)
	if e.AuthFile() != path {
		t.Fatalf("auth file %s, want %s", e.AuthFile(), path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("auth file mode %v, want 0600", fi.Mode().Perm())
	}

	// WithStoreAuth reads the file; nats.Connect (no registry) proves it.
	nc, err := nats.Connect(e.ClientURL(), natsx.WithStoreAuth(dir))
	if err != nil {
		t.Fatalf("with the store's auth file: %v", err)
	}
	nc.Close()
	// The file's credentials go to that server only.
	o := nats.GetDefaultOptions()
	o.Servers = []string{"nats://203.0.113.7:" + strings.Split(e.ClientURL(), ":")[2]}
	if err := natsx.WithStoreAuth(dir)(&o); err != nil || o.Password != "" {
		t.Fatalf("credentials offered to another host: %q %v", o.User, err)
	}

	e.Shutdown()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("auth file left after shutdown: %v", err)
	}
	if err := natsx.WithStoreAuth(dir)(&o); err != nil {
		t.Fatalf("no file is no error: %v", err)
	}
}

func TestConnectTakesCredentialsFromTheEnvironment(t *testing.T) {
	e := natsxtest.Server(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The environment's credentials are a deployment's: they are sent to
	// any server but an embedded one of this process, whose own are known.
	t.Setenv(natsx.EnvUser, "tajo")
	t.Setenv(natsx.EnvPassword, "wrong")
	nc, err := natsx.Connect(ctx, e.ClientURL(), "t")
	if err != nil {
		t.Fatalf("an embedded server of this process, with a deployment's credentials in the environment: %v", err)
	}
	nc.Close()
	if _, err := natsx.Connect(ctx, strings.Replace(e.ClientURL(), "127.0.0.1", "localhost", 1), "t"); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("want the environment's password used, and refused, got %v", err)
	}
	// From another process, the auth file of the store wins over them.
	nc, err = nats.Connect(e.ClientURL(), nats.UserInfo("tajo", "wrong"), natsx.WithStoreAuth(filepath.Dir(e.AuthFile())))
	if err != nil {
		t.Fatalf("the store's auth file over the environment's: %v", err)
	}
	nc.Close()
	t.Setenv(natsx.EnvPassword, "")
	t.Setenv(natsx.EnvUser, "")
	t.Setenv(natsx.EnvCert, "/nonexistent/cert.pem")
	if _, err := natsx.Connect(ctx, e.ClientURL(), "t"); err == nil || !strings.Contains(err.Error(), natsx.EnvKey) {
		t.Fatalf("NATS_CERT without NATS_KEY: %v", err)
	}
}
