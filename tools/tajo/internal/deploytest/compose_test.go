package deploytest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeFile is the part of the Compose specification these checks read.
// Anchors and merge keys (<<) are resolved by the YAML decoder, so a worker
// that inherits from x-worker is checked with what it inherits.
type composeFile struct {
	Name       string                    `yaml:"name"`
	Services   map[string]composeService `yaml:"services"`
	Volumes    map[string]any            `yaml:"volumes"`
	Extensions map[string]any            `yaml:",inline"` // x-* blocks, anchors for the services
}

type composeService struct {
	Image         string                    `yaml:"image"`
	Build         *composeBuild             `yaml:"build"`
	Command       []string                  `yaml:"command"`
	Environment   map[string]string         `yaml:"environment"`
	Volumes       []string                  `yaml:"volumes"`
	Ports         []string                  `yaml:"ports"`
	DependsOn     map[string]map[string]any `yaml:"depends_on"`
	ContainerName string                    `yaml:"container_name"`
	Restart       string                    `yaml:"restart"`
	Healthcheck   map[string]any            `yaml:"healthcheck"`
}

type composeBuild struct {
	Context    string            `yaml:"context"`
	Dockerfile string            `yaml:"dockerfile"`
	Args       map[string]string `yaml:"args"`
}

var workers = []string{"extractor", "transformer", "loader"}

func loadCompose(t *testing.T, root string) composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true) // a misspelt key is an error, as it is for docker compose
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("parsing docker-compose.yml: %v", err)
	}
	for k := range c.Extensions {
		if !strings.HasPrefix(k, "x-") {
			t.Errorf("docker-compose.yml: unknown top-level key %q", k)
		}
	}
	return c
}

func TestComposeServices(t *testing.T) {
	c := loadCompose(t, repoRoot(t))
	for _, name := range append([]string{"nats", "jaeger"}, workers...) {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("service %q missing", name)
		}
	}
	nats := c.Services["nats"]
	if !slices.Contains(nats.Command, "-js") {
		t.Errorf("nats must run with JetStream (-js), command is %q", nats.Command)
	}
	if i := slices.Index(nats.Command, "-sd"); i < 0 || i+1 >= len(nats.Command) || !mountsTarget(nats.Volumes, nats.Command[i+1]) {
		t.Errorf("the JetStream store (-sd) must be on a volume: command %q, volumes %q", nats.Command, nats.Volumes)
	}
	for _, p := range append(nats.Ports, c.Services["jaeger"].Ports...) {
		if !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("published port %q must bind to 127.0.0.1 only", p)
		}
	}
	for _, v := range nats.Volumes {
		if name, _, _ := strings.Cut(v, ":"); !strings.HasPrefix(name, ".") {
			if _, ok := c.Volumes[name]; !ok {
				t.Errorf("nats uses volume %q, which is not declared under volumes:", name)
			}
		}
	}
}

func TestComposeWorkers(t *testing.T) {
	root := repoRoot(t)
	c := loadCompose(t, root)
	for _, name := range workers {
		t.Run(name, func(t *testing.T) {
			s := c.Services[name]
			if got := s.Environment["NATS_URL"]; got != "nats://nats:4222" {
				t.Errorf("NATS_URL = %q, want nats://nats:4222", got)
			}
			if _, ok := s.DependsOn["nats"]; !ok {
				t.Error("must depend on nats")
			}
			cfg := s.Environment["TAJO_CONFIG"]
			if cfg == "" || !mountsTarget(s.Volumes, cfg) {
				t.Errorf("TAJO_CONFIG %q must point at a mounted file (volumes %q)", cfg, s.Volumes)
			}
			if s.Build == nil {
				t.Fatal("no build section")
			}
			ctx := filepath.Join(root, s.Build.Context)
			mustExist(t, filepath.Join(ctx, s.Build.Dockerfile), "dockerfile")
			if got := s.Build.Args["SERVICE"]; got != name {
				t.Errorf("build arg SERVICE = %q, want %q", got, name)
			}
			mustExist(t, filepath.Join(root, "services", name, "cmd", name), "the main package the image builds")
		})
	}

	// Keys travel from the environment, each only to the worker that calls
	// that vendor.
	wantKeys := map[string][]string{"extractor": {"BRAZE_API_KEY"}, "transformer": nil, "loader": {"BREVO_API_KEY"}}
	for name, want := range wantKeys {
		var got []string
		for k, v := range c.Services[name].Environment {
			if strings.HasSuffix(k, "_API_KEY") {
				got = append(got, k)
				if !strings.HasPrefix(v, "${"+k) {
					t.Errorf("%s: %s = %q must come from the environment (${%s})", name, k, v, k)
				}
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s gets keys %v, want %v", name, got, want)
		}
	}

	loader := c.Services["loader"]
	if loader.ContainerName != "" || len(loader.Ports) > 0 {
		t.Error("loader must have no container_name and no published ports, or --scale loader=N fails")
	}
}

func TestComposeBindMountsExist(t *testing.T) {
	root := repoRoot(t)
	c := loadCompose(t, root)
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") {
				mustExist(t, filepath.Join(root, src), name+" mounts "+src)
			}
		}
	}
}

// mountsTarget reports whether one of volumes ("src:target[:mode]") mounts
// target, or a directory holding it.
func mountsTarget(volumes []string, target string) bool {
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 {
			continue
		}
		if parts[1] == target || strings.HasPrefix(target, strings.TrimSuffix(parts[1], "/")+"/") {
			return true
		}
	}
	return false
}
