package restcall_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The layers around the vendor clients take their types from restcall, so
// that they can wrap a client without depending on it: go list -deps of
// each must not name a vendor client.
func TestLayersDoNotImportVendorClients(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	vendors := []string{"github.com/tajo-sync/tajo/pkg/braze", "github.com/tajo-sync/tajo/pkg/brevo"}
	for _, pkg := range []string{"restcall", "resilience", "audit"} {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command(goTool, "list", "-deps", "github.com/tajo-sync/tajo/pkg/"+pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 2 {
				t.Fatalf("go list -deps %s listed %q: want the package and its dependencies", pkg, deps)
			}
			for _, d := range deps {
				for _, v := range vendors {
					if d == v {
						t.Errorf("pkg/%s depends on the vendor client %s: take the type from pkg/restcall instead", pkg, v)
					}
				}
			}
		})
	}
}
