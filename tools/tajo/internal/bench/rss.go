package bench

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// PeakRSS returns the process's peak resident set size in bytes (VmHWM),
// or 0 where /proc is not available.
func PeakRSS() int64 { return procStatus("VmHWM:") }

// RSS returns the process's current resident set size in bytes.
func RSS() int64 { return procStatus("VmRSS:") }

func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if !strings.HasPrefix(line, field) {
			continue
		}
		parts := strings.Fields(line[len(field):])
		if len(parts) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}

// ResetPeakRSS starts a new peak measurement (Linux: clear_refs 5), so the
// peak of one phase is not the peak of the one before. It reports whether
// the kernel took it.
func ResetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}
