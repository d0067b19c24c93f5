package deploytest

import (
	"path/filepath"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// The cluster config is read by the same parser nats-server uses, so a typo
// or an option the server does not know fails here rather than at 3 a.m.
func TestClusterConfParses(t *testing.T) {
	path := filepath.Join(repoRoot(t), "deploy", "nats", "cluster.conf")
	t.Setenv("SERVER_NAME", "nats-2")
	ca, cert, key := writeCerts(t, t.TempDir())
	t.Setenv("NATS_PASSWORD", "p")
	t.Setenv("NATS_TLS_CA", ca)
	t.Setenv("NATS_TLS_CERT", cert)
	t.Setenv("NATS_TLS_KEY", key)
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("nats-server rejects %s: %v", path, err)
	}
	if opts.ServerName != "nats-2" {
		t.Errorf("server_name = %q, want it from $SERVER_NAME", opts.ServerName)
	}
	if !opts.JetStream || opts.StoreDir == "" {
		t.Errorf("JetStream must be on with a store dir: jetstream=%v store=%q", opts.JetStream, opts.StoreDir)
	}
	if opts.Cluster.Name == "" || opts.Cluster.Port != 6222 {
		t.Errorf("cluster name %q port %d", opts.Cluster.Name, opts.Cluster.Port)
	}
	// Three nodes: a route to each, itself included (the server ignores the
	// route to itself), so one file serves all three.
	if len(opts.Routes) != 3 {
		t.Errorf("want 3 routes, got %d: %v", len(opts.Routes), opts.Routes)
	}
}
