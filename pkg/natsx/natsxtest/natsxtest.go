// Package natsxtest starts a real embedded JetStream server for tests, with
// the connector's streams and buckets provisioned. Everything it starts is
// stopped by t.Cleanup. The server requires credentials, as every embedded
// server does: Conn (natsx.Connect) authenticates by itself; a child process
// gets them with NATS_URL set to the server's AuthURL.
package natsxtest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/natsx"
)

// Server starts an embedded server on 127.0.0.1, a random port and a
// t.TempDir() store, without provisioning anything.
func Server(t testing.TB) *natsx.Embedded {
	t.Helper()
	e, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("starting embedded nats: %v", err)
	}
	t.Cleanup(e.Shutdown)
	return e
}

// Conn connects to e; the connection is closed by t.Cleanup.
func Conn(t testing.TB, e *natsx.Embedded) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := natsx.Connect(ctx, e.ClientURL(), t.Name())
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := natsx.JetStream(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return nc, js
}

// Start starts a server, connects to it and provisions the connector's
// streams and buckets with default options.
func Start(t testing.TB) (*natsx.Embedded, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	e := Server(t)
	nc, js := Conn(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := natsx.Provision(ctx, js, natsx.ProvisionOptions{}); err != nil {
		t.Fatalf("provisioning: %v", err)
	}
	return e, nc, js
}
