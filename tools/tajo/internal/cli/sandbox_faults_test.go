package cli

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestSandboxFaults runs `tajo sandbox --faults 5xx=1`: the command says
// which faults it injects, and the curl lines it prints get server errors.
func TestSandboxFaults(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out lockedBuffer
	root := NewRoot("test")
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"sandbox", "--braze-addr", "127.0.0.1:0", "--brevo-addr", "127.0.0.1:0",
		"--users", "5", "--seed", "3", "--faults", "5xx=1,latency=1ms+-1ms"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	waitFor(t, &out, "Serving until Ctrl-C.", 30*time.Second)
	text := out.String()
	if !strings.Contains(text, "Injecting faults 5xx=1,latency=1ms±1ms (seed 3).") {
		t.Errorf("the output does not say which faults are injected:\n%s", text)
	}
	for url, status := range replayCurls(ctx, t, text) {
		if status < 500 {
			t.Errorf("GET %s with 5xx=1: status %d, want a server error", url, status)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sandbox command after Ctrl-C: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox command did not stop after its context was cancelled")
	}
}

func TestSandboxFaultsRejectsABadSpec(t *testing.T) {
	root := NewRoot("test")
	var out lockedBuffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"sandbox", "--braze-addr", "127.0.0.1:0", "--brevo-addr", "127.0.0.1:0",
		"--faults", "429=0.02,404=0.1"})
	err := root.ExecuteContext(context.Background())
	if err == nil {
		t.Fatal("tajo sandbox --faults 404=0.1 succeeded")
	}
	for _, want := range []string{"--faults", `"404=0.1"`, `unknown fault "404"`, "e.g. 429=0.02"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
