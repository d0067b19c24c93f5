package bootstrap

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Flags are what every service binary takes on its command line.
type Flags struct {
	ConfigPath string // --config, else $TAJO_CONFIG, else $TAJO_HOME/config.yaml
	Instance   string // --instance: this replica's name in counters and logs
}

// Main is a service binary's main: it parses the common flags, runs run
// with a context that SIGINT and SIGTERM cancel (run must then drain and
// return), and exits 1 with the error, prefixed by the service's name.
func Main(service string, run func(ctx context.Context, f Flags) error) {
	configPath := flag.String("config", "", "config file (default $TAJO_CONFIG, else $TAJO_HOME/config.yaml)")
	instance := flag.String("instance", hostname(service), "name of this replica in counters and logs")
	probe := flag.Bool("probe", false, "ask this service's /readyz and exit 0 when ready (a container healthcheck)")
	flag.Parse()
	if *probe {
		if err := Probe(context.Background(), service, ConfigPath(*configPath)); err != nil {
			fmt.Fprintln(os.Stderr, service+": not ready:", err)
			os.Exit(1)
		}
		return
	}
	SetMemoryLimit(MemoryLimitWorker)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, Flags{ConfigPath: ConfigPath(*configPath), Instance: *instance})
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, service+":", err)
		os.Exit(1)
	}
}

// hostname names a replica by its machine, falling back to the service.
func hostname(service string) string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return service
	}
	return h
}
