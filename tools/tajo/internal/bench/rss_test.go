package bench

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	status := "Name:\tbench\nVmPeak:\t  123456 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\n"
	for field, want := range map[string]int64{"VmHWM:": 2048 * 1024, "VmRSS:": 1024 * 1024} {
		got, err := parseStatus(strings.NewReader(status), field)
		if err != nil || got != want {
			t.Errorf("%s: got %d, %v; want %d", field, got, err, want)
		}
	}
	if _, err := parseStatus(strings.NewReader(status), "VmSwap:"); err == nil {
		t.Error("a missing field: want an error")
	}
	if _, err := parseStatus(strings.NewReader("VmHWM:\tlots kB\n"), "VmHWM:"); err == nil {
		t.Error("a value that is not a number: want an error")
	}
}

func requireProc(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system:", err)
	}
}

// The readers agree with each other on this very process, and a peak is
// never below the current resident set.
func TestRSSOfThisProcess(t *testing.T) {
	requireProc(t)
	rss, err := ProcRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	peak, err := ProcPeakRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss <= 0 || peak < rss {
		t.Fatalf("VmRSS %d, VmHWM %d: want 0 < VmRSS <= VmHWM", rss, peak)
	}
	if self := PeakRSS(); self < rss {
		t.Errorf("PeakRSS() = %d, below VmRSS %d", self, rss)
	}
	// 64 MB touched raise the peak by about as much.
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = 1
	}
	after, err := ProcPeakRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(buf)
	if after < peak+48<<20 && after < rss+48<<20 {
		t.Errorf("VmHWM went from %d to %d after touching 64 MB", peak, after)
	}
	if _, err := ProcRSS(1 << 30); err == nil {
		t.Error("a PID that does not exist: want an error")
	}
}

// The sampler follows another process by its PID and keeps its peak after it
// was read while it ran.
func TestSamplerOfAChild(t *testing.T) {
	requireProc(t)
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary:", err)
	}
	cmd := exec.Command(sleep, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	s := NewSampler(10 * time.Millisecond)
	s.Track("sleep", cmd.Process.Pid)
	s.Track("self", os.Getpid())
	time.Sleep(50 * time.Millisecond)
	peaks, err := s.Peak()
	if err != nil {
		t.Fatal(err)
	}
	if peaks["sleep"] <= 0 || peaks["self"] <= peaks["sleep"] {
		t.Fatalf("peaks %v: want both positive, the test binary's above sleep's", peaks)
	}
	// Peak may be called again (deferred on every path).
	if again, err := s.Peak(); err != nil || again["sleep"] < peaks["sleep"] {
		t.Fatalf("second Peak: %v, %v", again, err)
	}
}

// A process that was never readable is reported, not shown as 0 MB.
func TestSamplerOfNoProcess(t *testing.T) {
	requireProc(t)
	s := NewSampler(10 * time.Millisecond)
	s.Track("ghost", 1<<30)
	time.Sleep(30 * time.Millisecond)
	peaks, err := s.Peak()
	if err == nil || !strings.Contains(err.Error(), "ghost") {
		t.Fatalf("peaks %v, err %v: want an error naming ghost", peaks, err)
	}
	if _, ok := peaks["ghost"]; ok {
		t.Errorf("peaks %v: want no figure for ghost", peaks)
	}
}

func TestParseStatCPU(t *testing.T) {
	// A command with spaces and a parenthesis; utime 150, stime 50 ticks.
	d, err := parseStatCPU("1234 (tajo bench (x)) S 1 1234 1234 0 -1 4194304 100 0 0 0 150 50 0 0 20 0 8 0 100 0 0")
	if err != nil || d != 2*time.Second {
		t.Fatalf("parseStatCPU = %s, %v; want 2s", d, err)
	}
	if _, err := parseStatCPU("1234 (x) S 1"); err == nil {
		t.Fatal("a short line parsed")
	}
	if d, err := ProcCPU(os.Getpid()); err != nil || d < 0 {
		t.Fatalf("ProcCPU(self) = %s, %v", d, err)
	}
}
