package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Probe asks this service's own /readyz (on metrics.listen, or
// $TAJO_METRICS_LISTEN) whether it is ready: the container healthcheck
// (`<binary> -probe`), since the runtime image has no shell, curl or wget.
// An unspecified host (0.0.0.0, ::) is probed on 127.0.0.1.
func Probe(ctx context.Context, service, configPath string) error {
	cfg, err := LoadConfig(configPath)
	if err != nil {
		return err
	}
	addr := cfg.MetricsListen(service)
	if addr == "" {
		return errors.New("metrics.listen is off: nothing to probe")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("metrics listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + "/readyz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probing %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s %s", url, resp.Status, body)
	}
	return nil
}
