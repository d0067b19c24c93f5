package braze_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tajo-sync/tajo/pkg/braze"
)

// Each download attempt starts on an empty file: a cut-short attempt's
// bytes do not stay in front of the next one's, and f stays open.
func TestRewoundFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "export"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	open := braze.RewoundFile(f)
	for _, s := range []string{"a partial download, cut short", "whole"} {
		w, err := open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, s); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatalf("f closed by the writer: %v", err)
	}
	got, err := io.ReadAll(f)
	if err != nil || string(got) != "whole" {
		t.Fatalf("file holds %q (%v), want the last attempt alone", got, err)
	}
}
