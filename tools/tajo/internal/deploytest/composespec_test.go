package deploytest

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// envSources returns what decides which environment variables are read:
// the Go sources of the binaries (non-test files under pkg, services and
// tools/tajo, where each name is a string literal) and
// deploy/config/tajo.yaml (whose ${NAME} are expanded at load).
func envSources(t *testing.T, root string) (src, config string) {
	t.Helper()
	var sources strings.Builder
	for _, dir := range []string{"pkg", "services", filepath.Join("tools", "tajo")} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := os.ReadFile(p)
			sources.Write(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "deploy", "config", "tajo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return sources.String(), string(b)
}

// docker-compose.yml as the Compose specification's own loader reads it:
// valid, every service the deployment needs, healthchecks on /readyz, and
// every variable and path it names is one the binaries read and the
// repository holds.
func TestComposeSpec(t *testing.T) {
	root := repoRoot(t)
	env := []string{"NATS_PASSWORD=pw", "TAJO_METRICS_TOKEN=tok", "BRAZE_API_KEY=k", "BREVO_API_KEY=k"}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root), cli.WithEnv(env), cli.WithName("tajo"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose-go rejects docker-compose.yml: %v", err)
	}
	src, config := envSources(t, root)

	for _, name := range []string{"nats", "jaeger", "extractor", "transformer", "loader", "gateway"} {
		if _, ok := p.Services[name]; !ok {
			t.Errorf("service %q missing (have %v)", name, p.ServiceNames())
		}
	}
	// Without a required secret, the file refuses to load.
	bare, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root), cli.WithEnv(nil), cli.WithName("tajo"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bare.LoadProject(context.Background()); err == nil || !strings.Contains(err.Error(), "NATS_PASSWORD") {
		t.Errorf("loading without NATS_PASSWORD: %v; want a refusal naming it", err)
	}

	for _, name := range append(slices.Clone(workers), "gateway") {
		s, ok := p.Services[name]
		if !ok {
			continue
		}
		if s.Build == nil {
			t.Errorf("%s: no build section", name)
			continue
		}
		mustExist(t, filepath.Join(s.Build.Context, s.Build.Dockerfile), name+": Dockerfile")
		if got := s.Build.Args["SERVICE"]; got == nil || *got != name {
			t.Errorf("%s: build arg SERVICE = %v, want %s", name, got, name)
		}
		mustExist(t, filepath.Join(root, "services", name, "cmd", name), name+": main package")
		hc := s.HealthCheck
		if hc == nil || !slices.Equal([]string(hc.Test), []string{"CMD", "/usr/local/bin/entrypoint", "-probe"}) {
			t.Errorf("%s: healthcheck %v; want the binary probing its own /readyz", name, hc)
		}
		if !strings.Contains(src, `"probe"`) {
			t.Error("no binary takes -probe")
		}
		for k, v := range s.Environment {
			switch {
			case strings.HasPrefix(k, "OTEL_"):
				// Read by the OpenTelemetry SDK; tracing turns on with the endpoint.
				if k != "OTEL_EXPORTER_OTLP_ENDPOINT" && !strings.Contains(src, `"`+k+`"`) {
					t.Errorf("%s: %s is not an OTEL_* variable tajo documents", name, k)
				}
			case strings.Contains(src, `"`+k+`"`):
			case strings.Contains(config, "${"+k):
			default:
				t.Errorf("%s: environment %s is read by no binary and not by deploy/config/tajo.yaml", name, k)
			}
			if v == nil {
				t.Errorf("%s: %s has no value", name, k)
			}
		}
		for _, k := range []string{"BRAZE_API_KEY", "BREVO_API_KEY", "NATS_PASSWORD", "TAJO_METRICS_TOKEN"} {
			if v, ok := s.Environment[k]; ok && v != nil && *v != "" && !slices.Contains(env, k+"="+*v) {
				t.Errorf("%s: secret %s is written in the file, not taken from the environment", name, k)
			}
		}
	}
	for _, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeBind {
				if !strings.HasPrefix(v.Source, root+string(filepath.Separator)) {
					t.Errorf("%s: bind mount %s is outside the repository", s.Name, v.Source)
				}
				mustExist(t, v.Source, s.Name+": bind mount source")
			}
		}
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s: port %d published on %q, want 127.0.0.1 only", s.Name, port.Target, port.HostIP)
			}
		}
	}
	if nats, ok := p.Services["nats"]; ok {
		if nats.HealthCheck == nil {
			t.Error("nats: no healthcheck (the workers wait for it)")
		}
		if !slices.Contains(nats.Command, "-js") || !slices.Contains(nats.Command, "8222") {
			t.Errorf("nats: command %v; want JetStream (-js) and monitoring on 8222", nats.Command)
		}
	}
}
