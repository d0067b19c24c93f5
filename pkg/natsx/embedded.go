package natsx

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EmbeddedConfig configures an in-process JetStream server.
type EmbeddedConfig struct {
	// StoreDir is where JetStream keeps its file store. Required.
	StoreDir string `yaml:"store_dir"`
	// Host to listen on; default 127.0.0.1.
	Host string `yaml:"host"`
	// Port to listen on; 0 picks a random free port.
	Port int `yaml:"port"`
	// MaxStore caps JetStream file storage in bytes; 0 lets the server decide.
	MaxStore int64 `yaml:"max_store"`
	// ServerName names the server in cluster and monitoring output; default
	// "tajo-embedded".
	ServerName string `yaml:"server_name"`
	// ReadyTimeout bounds the wait for the server to accept connections;
	// default 10s.
	ReadyTimeout time.Duration `yaml:"ready_timeout"`
	// AuthFile is where the credentials generated at start are written
	// (mode 0600) for the operator's other commands; default AuthFileName
	// in StoreDir. See WithStoreAuth.
	AuthFile string `yaml:"auth_file"`
}

// Validate reports a configuration that cannot start a server.
func (c EmbeddedConfig) Validate() error {
	if c.StoreDir == "" {
		return errors.New("embedded nats: store_dir is required (a directory JetStream may write to)")
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("embedded nats: port %d out of range (0 picks a random port)", c.Port)
	}
	if c.MaxStore < 0 {
		return fmt.Errorf("embedded nats: max_store %d must not be negative", c.MaxStore)
	}
	return nil
}

// Embedded is a running in-process nats-server with JetStream enabled. It
// accepts only clients that authenticate with the credentials it generated
// at start: Connect finds them by itself in this process (see AuthURL to
// hand them to another process), WithStoreAuth from the auth file.
type Embedded struct {
	srv      *server.Server
	creds    Credentials
	authFile string
	hostport string
}

// StartEmbedded starts a JetStream server with a file store in cfg.StoreDir
// and returns once it accepts connections.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.ServerName == "" {
		cfg.ServerName = "tajo-embedded"
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 10 * time.Second
	}
	port := cfg.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if cfg.AuthFile == "" {
		cfg.AuthFile = filepath.Join(cfg.StoreDir, AuthFileName)
	}
	creds, err := NewCredentials()
	if err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName:        cfg.ServerName,
		Host:              cfg.Host,
		Port:              port,
		JetStream:         true,
		StoreDir:          cfg.StoreDir,
		JetStreamMaxStore: cfg.MaxStore,
		NoSigs:            true,
		NoLog:             true,
		HTTPPort:          0,
		// Another local user must not read the DLQ or publish upserts: one
		// user with a random password (compared in constant time).
		Username: creds.User,
		Password: creds.Password,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("creating embedded nats-server (store %s): %w", cfg.StoreDir, err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(cfg.ReadyTimeout) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("starting embedded nats-server on %s:%d: not ready after %s", cfg.Host, cfg.Port, cfg.ReadyTimeout)
	}
	e := &Embedded{srv: srv, creds: creds, authFile: cfg.AuthFile}
	u, err := url.Parse(srv.ClientURL())
	if err != nil {
		e.Shutdown()
		return nil, fmt.Errorf("starting embedded nats-server: its client URL %q does not parse: %w", srv.ClientURL(), err)
	}
	e.hostport = u.Host
	registerEmbedded(e.hostport, creds)
	if err := writeAuthFile(cfg.AuthFile, srv.ClientURL(), creds); err != nil {
		e.Shutdown()
		return nil, err
	}
	return e, nil
}

// ClientURL is the nats:// URL clients connect to, without credentials: safe
// to print. Connect authenticates to it by itself in this process.
func (e *Embedded) ClientURL() string { return e.srv.ClientURL() }

// AuthURL is ClientURL with the credentials in it, for NATS_URL in the
// environment of a child process. Never print or log it.
func (e *Embedded) AuthURL() string {
	u, _ := url.Parse(e.srv.ClientURL()) // StartEmbedded parsed it
	u.User = url.UserPassword(e.creds.User, e.creds.Password)
	return u.String()
}

// AuthFile is the path of the file holding the server's credentials.
func (e *Embedded) AuthFile() string { return e.authFile }

// Server exposes the underlying server, for tests and monitoring.
func (e *Embedded) Server() *server.Server { return e.srv }

// Shutdown stops the server and waits until it has stopped.
// Its credentials are forgotten and its auth file removed.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	if e.hostport != "" {
		unregisterEmbedded(e.hostport)
	}
	removeAuthFile(e.authFile, e.creds)
}
