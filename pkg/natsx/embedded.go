package natsx

import (
	"errors"
	"fmt"
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

// Embedded is a running in-process nats-server with JetStream enabled.
type Embedded struct {
	srv *server.Server
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
	return &Embedded{srv: srv}, nil
}

// ClientURL is the nats:// URL clients connect to.
func (e *Embedded) ClientURL() string { return e.srv.ClientURL() }

// Server exposes the underlying server, for tests and monitoring.
func (e *Embedded) Server() *server.Server { return e.srv }

// Shutdown stops the server and waits until it has stopped.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}
