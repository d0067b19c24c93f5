package extractor

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
)

// envHoldExport makes the test binary act as an extractor in the middle of
// a download: it creates an export file in the directory named, prints the
// file's path and waits to be killed.
const envHoldExport = "TAJO_TEST_HOLD_EXPORT_IN"

func TestMain(m *testing.M) {
	if dir := os.Getenv(envHoldExport); dir != "" {
		f, err := createExportFile(dir)
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(2)
		}
		spool, err := createLockedFile(dir, spoolPattern) // a full run's users, being ordered
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(2)
		}
		os.Stdout.WriteString(f.Name() + "\n" + spool.Name() + "\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// An export left by a killed extractor, and the spool of its users a full
// run orders them in, are removed when the next one starts; those of a
// running extractor are left alone.
func TestStartRemovesExportsOfKilledExtractors(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock: leftovers are not told from live downloads there")
	}
	dir := t.TempDir()
	_, js, st := startStore(t, 30*time.Second)
	bz, err := braze.New(braze.Config{BaseURL: "http://127.0.0.1:1", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	start := func() {
		t.Helper()
		if _, err := New(js, bz, st, Config{FieldsToExport: []string{"email"}, TempDir: dir}); err != nil {
			t.Fatal(err)
		}
	}

	// An extractor process in the middle of a download.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envHoldExport+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("the downloading process: %v", err)
	}
	live := strings.TrimSpace(line)
	line, err = r.ReadString('\n')
	if err != nil {
		t.Fatalf("the downloading process: %v", err)
	}
	liveSpool := strings.TrimSpace(line)

	// This process's own download, in progress.
	own, err := createExportFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()

	start()
	for _, p := range []string{live, liveSpool, own.Name()} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("a download in progress was removed: %v", err)
		}
	}

	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	start()
	for _, p := range []string{live, liveSpool} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("the export (or spool of users) of the killed extractor is still there: %v", err)
		}
	}
	if _, err := os.Stat(own.Name()); err != nil {
		t.Fatalf("a download in progress was removed: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, exportPattern)); len(left) != 1 {
		t.Fatalf("export files left: %v", left)
	}
}

// startStore starts an embedded server and opens the state store on it;
// ctx ends after within, or with the test.
func startStore(t *testing.T, within time.Duration) (context.Context, jetstream.JetStream, *state.Store) {
	t.Helper()
	_, _, js := natsxtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), within)
	t.Cleanup(cancel)
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, js, st
}
