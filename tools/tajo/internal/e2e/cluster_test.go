//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/mapping"
	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/extractor"
	"github.com/tajo-sync/tajo/services/loader"
	"github.com/tajo-sync/tajo/tools/sandbox"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

// cluster is three JetStream servers routed to one another on loopback.
type cluster struct {
	servers []*server.Server
	urls    []string
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	ports := make([]int, 6)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		// Closed at once: the servers bind these ports next.
		if err := ln.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var routes []string
	for i := range 3 {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[3+i]))
	}
	c := &cluster{}
	opts := make([]*server.Options, 3)
	for i := range 3 {
		opts[i] = &server.Options{
			ServerName: fmt.Sprintf("n%d", i), Host: "127.0.0.1", Port: ports[i],
			JetStream: true, StoreDir: filepath.Join(t.TempDir(), fmt.Sprintf("n%d", i)),
			NoSigs: true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "tajo", Host: "127.0.0.1", Port: ports[3+i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		}
		c.urls = append(c.urls, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	for i := range 3 {
		s, err := server.NewServer(opts[i])
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		c.servers = append(c.servers, s)
		t.Cleanup(s.Shutdown)
	}
	for _, s := range c.servers {
		if !s.ReadyForConnections(20 * time.Second) {
			t.Fatalf("%s not ready", s.Name())
		}
	}
	return c
}

func (c *cluster) byName(name string) *server.Server {
	for _, s := range c.servers {
		if s.Name() == name {
			return s
		}
	}
	return nil
}

// A three-node cluster with R3 streams loses a node in the middle of a
// 50,000-user sync (a follower, then in a second case the node leading
// RAW): the sync completes, every line is accounted for, and no contact is
// written to Brevo twice.
func TestClusterLosesANode(t *testing.T) {
	for _, tc := range []struct {
		name       string
		pickLeader bool
	}{{"follower", false}, {"stream leader", true}} {
		t.Run(tc.name, func(t *testing.T) { clusterSync(t, tc.pickLeader) })
	}
}

func clusterSync(t *testing.T, pickLeader bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	const users = 50000
	c := startCluster(t)
	sb, err := sandbox.Start(ctx, sandbox.Options{Users: users, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	nc, err := natsx.Connect(ctx, strings.Join(c.urls, ","), "cluster-test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := natsx.JetStream(nc)
	if err != nil {
		t.Fatal(err)
	}
	// JetStream answers once the cluster has elected its meta leader.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		actx, acancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := js.AccountInfo(actx)
		acancel()
		if err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("JetStream cluster not ready: %v", err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(ctx, app.Options{
		NC:        nc,
		Braze:     braze.Config{BaseURL: sb.BrazeURL, APIKey: sb.BrazeAPIKey},
		Brevo:     brevo.Config{BaseURL: sb.BrevoURL, APIKey: sb.BrevoAPIKey},
		Mapping:   mapping.Options{Fields: mapping.DefaultFieldMapping()},
		Extractor: extractor.Config{TempDir: t.TempDir(), Poll: braze.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}},
		Loader:    loader.Config{FirstPoll: 100 * time.Millisecond},
		Logger:    log,
		Replicas:  3,
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := js.Stream(ctx, proto.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	info, err := raw.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("RAW has %d replicas (cluster %+v), want 3", info.Config.Replicas, info.Cluster)
	}

	wctx, stopWorkers := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.RunWorkers(wctx) }()
	defer func() {
		stopWorkers()
		if err := <-done; err != nil {
			t.Errorf("workers: %v", err)
		}
	}()
	type result struct {
		s   app.Summary
		err error
	}
	res := make(chan result, 1)
	go func() {
		s, err := a.Sync(ctx, "full", nil)
		res <- result{s, err}
	}()

	// Mid-run: once a fifth of the users are in Brevo, stop a node.
	for deadline := time.Now().Add(5 * time.Minute); len(sb.Brevo.Contacts()) < users/5; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d contacts in Brevo after 5 minutes", len(sb.Brevo.Contacts()))
		}
	}
	info, err = raw.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A "follower" must follow every stream the pipeline writes (RAW, OPS
	// and the buckets' streams) and every consumer, not RAW alone: a node
	// leading the fingerprints' stream or the loader's consumer is a
	// leader's loss for the loader.
	leads := map[string]bool{}
	for name := range js.StreamNames(ctx).Name() {
		si, err := js.Stream(ctx, name)
		if err != nil {
			continue
		}
		if cl := si.CachedInfo().Cluster; cl != nil {
			leads[cl.Leader] = true
		}
		// Consumers have raft groups of their own: losing the node leading
		// the loader's consumer loses acks in flight too.
		for ci := range si.ListConsumers(ctx).Info() {
			if ci.Cluster != nil {
				leads[ci.Cluster.Leader] = true
			}
		}
	}
	victim := info.Cluster.Leader
	if !pickLeader {
		victim = info.Cluster.Replicas[0].Name
		for _, r := range info.Cluster.Replicas {
			if !leads[r.Name] {
				victim = r.Name
				break
			}
		}
	}
	t.Logf("stopping %s (RAW leader %s; leads a stream: %v) with %d contacts in Brevo", victim, info.Cluster.Leader,
		leads[victim], len(sb.Brevo.Contacts()))
	c.byName(victim).Shutdown()

	r := <-res
	if r.err != nil {
		t.Fatalf("sync after losing %s: %v", victim, r.err)
	}
	s := r.s
	t.Logf("summary: %+v", s)
	if s.Missing != 0 || s.Settled() != s.Exported || s.Exported != users {
		t.Errorf("summary does not add up: %+v (settled %d)", s, s.Settled())
	}
	st := sb.Brevo.State()
	writes := st.Imports.Rows.Rows
	for k, n := range st.Requests {
		if strings.HasPrefix(k, "POST /v3/contacts ") {
			writes += n
		}
	}
	// Whichever node is lost (each one leads some stream, bucket or
	// consumer), nothing is written twice: the loader retries its
	// bookkeeping through the failover instead of letting the upserts be
	// redelivered and imported again.
	if int64(writes) != s.Created+s.Updated {
		t.Errorf("Brevo was written %d contact rows (import rows + single upserts) for %d created and updated: %d twice",
			writes, s.Created+s.Updated, int64(writes)-s.Created-s.Updated)
	}
	if info, err := raw.Info(ctx); err == nil && info.Cluster != nil {
		t.Logf("RAW leader after the loss: %s", info.Cluster.Leader)
	}
}
