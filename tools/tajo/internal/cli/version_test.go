package cli

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
)

func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	root := NewRoot("v1.2.3")
	root.SetOut(&out)
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("tajo v1.2.3 (%s %s/%s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestVersionRefusesArguments(t *testing.T) {
	root := NewRoot("dev")
	root.SetOut(&bytes.Buffer{})
	root.SetErr(&bytes.Buffer{})
	root.SetArgs([]string{"version", "extra"})
	if err := root.Execute(); err == nil {
		t.Fatal("want an error for an unexpected argument")
	}
}
