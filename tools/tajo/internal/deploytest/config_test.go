package deploytest

import (
	"path/filepath"
	"testing"

	"github.com/tajo-sync/tajo/pkg/config"
)

// The containers read deploy/config/tajo.yaml with pkg/config; a key the
// loader does not know, or a bad value, would stop every worker at start.
func TestComposeConfigLoads(t *testing.T) {
	for _, env := range []string{"BRAZE_INSTANCE_URL", "BRAZE_SEGMENT_ID", "BREVO_LIST_ID"} {
		t.Setenv(env, "") // the defaults written in the file must be valid on their own
	}
	path := filepath.Join(repoRoot(t), "deploy", "config", "tajo.yaml")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("the compose config does not load: %v", err)
	}
	if len(cfg.Connectors.Brevo.ListIDs) == 0 {
		t.Error("no connectors.brevo.list_ids: the loader refuses to start without one")
	}
	if cfg.Connectors.Braze.InstanceURL == "" {
		t.Error("no connectors.braze.instance_url")
	}

	t.Setenv("BREVO_LIST_ID", "17")
	t.Setenv("BRAZE_INSTANCE_URL", "rest.fra-01.braze.eu")
	cfg, err = config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Connectors.Brevo.ListIDs; len(got) != 1 || got[0] != 17 {
		t.Errorf("BREVO_LIST_ID=17 gives list_ids %v", got)
	}
	if got := cfg.Connectors.Braze.InstanceURL; got != "https://rest.fra-01.braze.eu" {
		t.Errorf("BRAZE_INSTANCE_URL gives instance_url %q", got)
	}
}
