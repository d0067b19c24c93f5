package config

import (
	"fmt"
	"net"
	"os"
	"strconv"
)

// Metrics configures the /metrics, /healthz and /readyz endpoint every
// service process serves (pkg/telemetry).
type Metrics struct {
	// Listen is host:port, or "off". Default: 127.0.0.1 on the service's
	// own port (DefaultMetricsPorts), so the workers of one machine do not
	// collide. A non-loopback host also needs $TAJO_METRICS_TOKEN: /metrics
	// then asks for it as a bearer token.
	Listen string `yaml:"listen"`
}

// DefaultMetricsPorts are the ports each service listens on when
// metrics.listen is not set.
var DefaultMetricsPorts = map[string]int{
	"tajo": 9470, "extractor": 9471, "transformer": 9472, "loader": 9473, "gateway": 9474,
}

// MetricsOff is the metrics.listen value that serves nothing.
const MetricsOff = "off"

// MetricsListen is the address service serves its metrics on, "" when off.
// $TAJO_METRICS_LISTEN wins over the file (one config file, several
// processes on one machine).
func (c *Config) MetricsListen(service string) string {
	l := c.Metrics.Listen
	if v := os.Getenv(EnvMetricsListen); v != "" {
		l = v
	}
	switch l {
	case MetricsOff:
		return ""
	case "":
		return "127.0.0.1:" + strconv.Itoa(DefaultMetricsPorts[service])
	}
	return l
}

// EnvMetricsListen overrides metrics.listen.
const EnvMetricsListen = "TAJO_METRICS_LISTEN"

// MaxReplicas is the largest nats.replicas JetStream allows.
const MaxReplicas = 5

func (c *Config) checkOperations(report func(path, msg string)) {
	if l := c.Metrics.Listen; l != "" && l != MetricsOff {
		if _, port, err := net.SplitHostPort(l); err != nil || port == "" {
			report("metrics.listen", fmt.Sprintf("want host:port such as 127.0.0.1:9473, or off (got %q)", l))
		}
	}
	if r := c.NATS.Replicas; r < 1 || r > MaxReplicas {
		report("nats.replicas", fmt.Sprintf("must be 1 to %d: 1 on a single server, 3 on a three-node cluster (got %d)", MaxReplicas, r))
	}
}
