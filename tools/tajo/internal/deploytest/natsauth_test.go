package deploytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// writeCerts writes a CA and a certificate it signed for 127.0.0.1 and the
// cluster's host names, usable by servers and clients, as PEM files in dir.
func writeCerts(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tajo test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	nodeKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	nodeTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "nats-1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"nats-1", "nats-2", "nats-3"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	nodeDER, err := x509.CreateCertificate(rand.Reader, nodeTmpl, caCert, &nodeKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(nodeKey)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("node.pem", "CERTIFICATE", nodeDER), write("node-key.pem", "EC PRIVATE KEY", keyDER)
}

// The cluster config requires a user and TLS from clients, and mutual TLS
// from routes; a node started from it refuses an anonymous client.
func TestClusterConfRequiresAuthAndTLS(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := writeCerts(t, dir)
	t.Setenv("SERVER_NAME", "nats-1")
	t.Setenv("NATS_PASSWORD", "s3cret-for-the-test")
	t.Setenv("NATS_TLS_CA", ca)
	t.Setenv("NATS_TLS_CERT", cert)
	t.Setenv("NATS_TLS_KEY", key)
	opts, err := server.ProcessConfigFile(filepath.Join(repoRoot(t), "deploy", "nats", "cluster.conf"))
	if err != nil {
		t.Fatalf("nats-server rejects cluster.conf: %v", err)
	}
	if len(opts.Users) == 0 || opts.Users[0].Password == "" || opts.NoAuthUser != "" {
		t.Fatalf("clients must authenticate: users %d, no_auth_user %q", len(opts.Users), opts.NoAuthUser)
	}
	if opts.TLSConfig == nil {
		t.Fatal("clients must use TLS")
	}
	if opts.Cluster.TLSConfig == nil || opts.Cluster.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Fatal("routes must authenticate with mutual TLS")
	}

	// One node of it, on loopback and a free port, alone: the client side
	// is what is tried here.
	opts.Host, opts.Port, opts.HTTPPort = "127.0.0.1", -1, 0
	opts.Cluster = server.ClusterOpts{}
	opts.Routes = nil
	opts.StoreDir, opts.NoSigs, opts.NoLog = t.TempDir(), true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("the node did not start")
	}
	url := s.ClientURL()
	if nc, err := nats.Connect(url, nats.RootCAs(ca), nats.Timeout(5*time.Second)); err == nil {
		nc.Close()
		t.Fatal("an anonymous client was let in")
	} else if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("anonymous client: want an authorization violation, got %v", err)
	}
	if nc, err := nats.Connect(url, nats.UserInfo("tajo", "s3cret-for-the-test"), nats.Timeout(5*time.Second)); err == nil {
		nc.Close()
		t.Fatal("a client without TLS was let in")
	}
	nc, err := nats.Connect(url, nats.UserInfo("tajo", "s3cret-for-the-test"), nats.RootCAs(ca), nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("the workers' way in (user, password, CA): %v", err)
	}
	nc.Close()
}

// The Compose stack's server refuses anonymous clients too.
func TestComposeConfRequiresAuth(t *testing.T) {
	t.Setenv("NATS_PASSWORD", "s3cret-for-the-test")
	opts, err := server.ProcessConfigFile(filepath.Join(repoRoot(t), "deploy", "nats", "compose.conf"))
	if err != nil {
		t.Fatalf("nats-server rejects compose.conf: %v", err)
	}
	if len(opts.Users) == 0 || opts.Users[0].Password != "s3cret-for-the-test" {
		t.Fatalf("clients must authenticate with $NATS_PASSWORD: %d users", len(opts.Users))
	}
	c := loadCompose(t, repoRoot(t))
	nats := c.Services["nats"]
	if !mountsTarget(nats.Volumes, "/etc/nats/compose.conf") || nats.Environment["NATS_PASSWORD"] == "" {
		t.Errorf("the nats service must run with deploy/nats/compose.conf and NATS_PASSWORD: volumes %q", nats.Volumes)
	}
	for _, w := range workers {
		env := c.Services[w].Environment
		if env["NATS_USER"] != "tajo" || env["NATS_PASSWORD"] == "" {
			t.Errorf("%s must connect as tajo with NATS_PASSWORD", w)
		}
	}
}
