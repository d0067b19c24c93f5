package chaos

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/tajo-sync/tajo/pkg/natsx"
	"github.com/tajo-sync/tajo/tools/tajo/internal/stack"
)

// BuildNATSServer compiles nats-server into dir from the version the
// workspace pins (the one the embedded server links), for callers that have
// no installed binary; `make chaos` installs the same version into bin/.
func BuildNATSServer(ctx context.Context, dir string) (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("building nats-server: cannot locate the tools/tajo module; pass the binary's path instead")
	}
	bin := filepath.Join(dir, "nats-server")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/nats-io/nats-server/v2")
	// tools/tajo/internal/chaos -> tools/tajo, whose go.mod requires it.
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building nats-server (go build github.com/nats-io/nats-server/v2 in %s): %w\n%s", cmd.Dir, err, out)
	}
	return bin, nil
}

// natsServer is an external nats-server process with JetStream on a file
// store, restartable on the same port and store. It requires a user and
// password, as a deployment's server does; the password lives in a config
// file only the owner reads (a command-line flag would show in ps).
type natsServer struct {
	bin, storeDir, conf string
	port                int
	creds               natsx.Credentials
	proc                *stack.Proc
	logs                []*stack.Proc // every process started, for the logs
}

func startNATSServer(ctx context.Context, bin, storeDir string) (*natsServer, error) {
	port, err := freePort(ctx)
	if err != nil {
		return nil, err
	}
	creds, err := natsx.NewCredentials()
	if err != nil {
		return nil, err
	}
	s := &natsServer{bin: bin, storeDir: storeDir, port: port, creds: creds,
		conf: filepath.Join(filepath.Dir(storeDir), "nats-server.conf")}
	if err := s.writeConf(); err != nil {
		return nil, err
	}
	return s, s.start(ctx)
}

// writeConf writes the server's config, with its credentials, mode 0600.
func (s *natsServer) writeConf() error {
	conf := fmt.Sprintf("listen: \"127.0.0.1:%d\"\njetstream {\n  store_dir: %q\n}\n"+
		"authorization {\n  user: %q\n  password: %q\n}\n", s.port, s.storeDir, s.creds.User, s.creds.Password)
	if err := os.MkdirAll(filepath.Dir(s.conf), 0o700); err != nil {
		return fmt.Errorf("writing the nats-server config: %w", err)
	}
	if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
		return fmt.Errorf("writing the nats-server config: %w", err)
	}
	return nil
}

// URL is the client URL, without credentials: safe to print.
func (s *natsServer) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

// AuthURL is URL with the credentials, for the workers' NATS_URL and the
// driver's own connection. Never print it.
func (s *natsServer) AuthURL() string {
	u := url.URL{Scheme: "nats", Host: "127.0.0.1:" + strconv.Itoa(s.port), User: url.UserPassword(s.creds.User, s.creds.Password)}
	return u.String()
}

func (s *natsServer) start(ctx context.Context) error {
	p, err := stack.Start("nats-server", s.bin, nil, "-c", s.conf)
	if err != nil {
		return err
	}
	s.proc = p
	s.logs = append(s.logs, p)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	var d net.Dialer
	for {
		if p.Exited() {
			return fmt.Errorf("nats-server exited at start (is port %d taken, or %s unwritable?):\n%s", s.port, s.storeDir, p.Output())
		}
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := d.DialContext(dctx, "tcp", addr)
		cancel()
		if err == nil {
			return conn.Close()
		}
		select {
		case <-ctx.Done():
			p.Kill()
			return fmt.Errorf("waiting for nats-server on %s: %w", addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Restart stops the server gracefully (SIGTERM, so the file store is
// flushed as in an orderly restart) and starts it again on the same port
// and store directory.
func (s *natsServer) Restart(ctx context.Context) error {
	if err := s.Stop(); err != nil {
		return fmt.Errorf("restarting nats-server: %w", err)
	}
	return s.start(ctx)
}

// Stop ends the server: SIGTERM, then SIGKILL after 30 seconds.
func (s *natsServer) Stop() error {
	if s.proc == nil {
		return nil
	}
	err := s.proc.Stop(30 * time.Second)
	s.proc = nil
	if err != nil {
		return fmt.Errorf("stopping nats-server: %w", err)
	}
	return nil
}

// freePort asks the kernel for an unused loopback port. Another process
// could take it before nats-server binds it; start then fails and says so.
func freePort(ctx context.Context) (int, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port for nats-server: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
