package progress

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeClock is advanced by hand so throttling is tested without sleeping.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestBarTerminalRedrawsInPlace(t *testing.T) {
	var buf bytes.Buffer
	clk := &fakeClock{t: time.Unix(0, 0)}
	b := New(&buf, WithTerminal(true), WithClock(clk.now))
	clk.advance(time.Second)
	b.Update(Snapshot{Stage: "exporting", Exported: 100, Total: 1000})
	clk.advance(time.Second)
	b.Update(Snapshot{Exported: 1000, Loaded: 1000, Total: 1000})
	b.Finish(Snapshot{Exported: 1000, Loaded: 1000, Total: 1000})

	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("terminal mode must end exactly one line, at Finish: %q", out)
	}
	frames := strings.Split(strings.TrimSuffix(out, "\n"), "\r")
	if len(frames) != 4 || frames[0] != "" {
		t.Fatalf("want 3 frames each after a carriage return, got %q", frames)
	}
	// The second frame is shorter (no stage); spaces must erase the rest of
	// the first one.
	if len(frames[2]) != len(frames[1]) || !strings.HasSuffix(frames[2], " ") {
		t.Errorf("shorter frame not padded to erase the previous one:\n%q\n%q", frames[1], frames[2])
	}
	if !strings.Contains(frames[3], "100% exported 1,000/1,000") || !strings.Contains(frames[3], "500/s 00:02") {
		t.Errorf("final frame: %q", frames[3])
	}
}

func TestBarPlainThrottlesButKeepsStageChanges(t *testing.T) {
	var buf bytes.Buffer
	clk := &fakeClock{t: time.Unix(0, 0)}
	b := New(&buf, WithTerminal(false), WithClock(clk.now), WithPlainInterval(2*time.Second))
	b.Update(Snapshot{Stage: "exporting", Exported: 1}) // first: printed
	clk.advance(500 * time.Millisecond)
	b.Update(Snapshot{Stage: "exporting", Exported: 2}) // too soon: dropped
	b.Update(Snapshot{Stage: "loading", Exported: 3})   // stage change: printed
	clk.advance(2 * time.Second)
	b.Update(Snapshot{Stage: "loading", Exported: 4}) // interval passed: printed
	b.Finish(Snapshot{Stage: "done", Exported: 5})    // always printed

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	var got []string
	for _, l := range lines {
		if strings.Contains(l, "\r") {
			t.Fatalf("plain mode wrote a carriage return: %q", l)
		}
		got = append(got, strings.Fields(l)[4]) // the exported count
	}
	if want := []string{"1", "3", "4", "5"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("printed exported counts %v, want %v\n%s", got, want, buf.String())
	}
}

func TestIsTerminal(t *testing.T) {
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is not a terminal")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is not a terminal")
	}
}
