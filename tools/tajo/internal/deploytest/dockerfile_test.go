package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The Dockerfile cannot be built here (no Docker), so check what would break
// a build: every binary the compose file asks for is built, from a main
// package that exists, and SERVICE selects the entrypoint.
func TestDockerfileBuildsEveryService(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "deploy", "docker", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)

	loop := regexp.MustCompile(`for s in ([a-z ]+);`).FindStringSubmatch(df)
	if loop == nil {
		t.Fatal("no `for s in ...;` loop building the services")
	}
	built := strings.Fields(loop[1])
	for _, w := range workers {
		if !strings.Contains(" "+loop[1]+" ", " "+w+" ") {
			t.Errorf("the image does not build %s (loop builds %v)", w, built)
		}
	}
	for _, s := range built {
		mustExist(t, filepath.Join(root, "services", s, "cmd", s), "main package of "+s)
	}
	if !strings.Contains(df, "-o /out/tajo ./tools/tajo") {
		t.Error("the image does not build the tajo CLI")
	}
	mustExist(t, filepath.Join(root, "tools", "tajo", "main.go"), "tajo main package")

	for _, want := range []string{"ARG SERVICE=", "COPY --from=build /out/${SERVICE} ", `ENTRYPOINT ["/usr/local/bin/entrypoint"]`, "CGO_ENABLED=0"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}
