package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The linker ignores -X for a symbol that does not exist, so a renamed
// version variable would make every release report "dev" without a word.
// This test names main.version (it stops compiling if the variable goes)
// and checks the Makefile sets exactly that symbol.
func TestVersionIsInjectable(t *testing.T) {
	if version != "dev" {
		t.Errorf("version defaults to %q, want dev for a plain go build", version)
	}
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mk), "-X main.version=$(VERSION)") {
		t.Error("the Makefile no longer sets -X main.version=$(VERSION)")
	}
}
