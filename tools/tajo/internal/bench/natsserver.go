package bench

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/tools/tajo/internal/stack"
)

// natsServer is an external nats-server process with JetStream on a file
// store under dir, bound to 127.0.0.1 and requiring a user and password, as
// a deployment's does (the same setup as the chaos driver's). The password
// is in a 0600 config file, never on a command line.
type natsServer struct {
	proc     *stack.Proc
	port     int
	creds    natsx.Credentials
	storeDir string
}

func startNATSServer(ctx context.Context, bin, dir, memLimit string) (*natsServer, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("finding a free port for nats-server: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	creds, err := natsx.NewCredentials()
	if err != nil {
		return nil, fmt.Errorf("making the nats-server's credentials: %w", err)
	}
	s := &natsServer{port: port, creds: creds, storeDir: filepath.Join(dir, "store")}
	conf := filepath.Join(dir, "nats-server.conf")
	body := fmt.Sprintf("listen: \"127.0.0.1:%d\"\njetstream {\n  store_dir: %q\n}\n"+
		"authorization {\n  user: %q\n  password: %q\n}\n", port, s.storeDir, creds.User, creds.Password)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("writing the nats-server config: %w", err)
	}
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return nil, fmt.Errorf("writing the nats-server config: %w", err)
	}
	var env []string
	if memLimit != "" {
		env = []string{"GOMEMLIMIT=" + memLimit}
	}
	p, err := stack.Start("nats-server", bin, env, "-c", conf)
	if err != nil {
		return nil, err
	}
	s.proc = p
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var d net.Dialer
	for {
		if p.Exited() {
			return nil, fmt.Errorf("nats-server exited at start (port %d taken?):\n%s", port, p.Output())
		}
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := d.DialContext(dctx, "tcp", addr)
		cancel()
		if err == nil {
			return s, conn.Close()
		}
		select {
		case <-ctx.Done():
			p.Kill()
			return nil, fmt.Errorf("waiting for nats-server on %s: %w", addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// AuthURL is the client URL with the credentials, for the workers'
// NATS_URL and the driver's connection. Never print it.
func (s *natsServer) AuthURL() string {
	u := url.URL{Scheme: "nats", Host: "127.0.0.1:" + strconv.Itoa(s.port), User: url.UserPassword(s.creds.User, s.creds.Password)}
	return u.String()
}

// Stop ends the server by its PID: SIGTERM, then SIGKILL after 30 seconds.
func (s *natsServer) Stop() error {
	if err := s.proc.Stop(30 * time.Second); err != nil {
		return fmt.Errorf("stopping nats-server (pid %d): %w", s.proc.PID(), err)
	}
	return nil
}
