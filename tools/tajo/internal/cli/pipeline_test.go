package cli

import (
	"errors"
	"testing"

	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

func TestOnceResult(t *testing.T) {
	cases := []struct {
		name string
		sum  app.Summary
		fail bool
	}{
		{"clean", app.Summary{Exported: 10, Created: 10}, false},
		{"dead letters alone are data problems", app.Summary{Exported: 10, Created: 8, DeadLettered: 2}, false},
		{"a failed record", app.Summary{Exported: 10, Created: 9, Failed: 1}, true},
		{"the run itself failed", app.Summary{Failed: 1, Error: "export: 401"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := onceResult(c.sum)
			if (err != nil) != c.fail {
				t.Fatalf("onceResult = %v, want failure %v", err, c.fail)
			}
			if err != nil && !errors.Is(err, errSyncFailed) {
				t.Errorf("error %v does not wrap errSyncFailed", err)
			}
		})
	}
}

func TestStageName(t *testing.T) {
	for in, want := range map[string]string{"": "starting", "running": "exporting", "exported": "loading", "completed": "completed", "failed": "failed"} {
		if got := stageName(in); got != want {
			t.Errorf("stageName(%q) = %q, want %q", in, got, want)
		}
	}
}
