package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PeakRSS returns this process's peak resident set size in bytes (VmHWM),
// or 0 where /proc is not available.
func PeakRSS() int64 { n, _ := readStatus("/proc/self/status", "VmHWM:"); return n }

// RSS returns this process's current resident set size in bytes.
func RSS() int64 { n, _ := readStatus("/proc/self/status", "VmRSS:"); return n }

// ProcPeakRSS returns the peak resident set size (VmHWM) of process pid in
// bytes, read from /proc/<pid>/status.
func ProcPeakRSS(pid int) (int64, error) {
	return readStatus(fmt.Sprintf("/proc/%d/status", pid), "VmHWM:")
}

// ProcRSS returns the current resident set size (VmRSS) of process pid in
// bytes.
func ProcRSS(pid int) (int64, error) {
	return readStatus(fmt.Sprintf("/proc/%d/status", pid), "VmRSS:")
}

func readStatus(path, field string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", field, err)
	}
	defer f.Close()
	n, err := parseStatus(f, field)
	if err != nil {
		return 0, fmt.Errorf("reading %s from %s: %w", field, path, err)
	}
	return n, nil
}

// parseStatus finds field ("VmHWM:") in the text of a /proc/<pid>/status
// file and returns its value in bytes (the file gives kB).
func parseStatus(r io.Reader, field string) (int64, error) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		line := s.Text()
		if !strings.HasPrefix(line, field) {
			continue
		}
		parts := strings.Fields(line[len(field):])
		if len(parts) != 2 || parts[1] != "kB" {
			return 0, fmt.Errorf("unexpected line %q", line)
		}
		kb, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected line %q: %w", line, err)
		}
		return kb * 1024, nil
	}
	if err := s.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s line", field)
}

// ResetPeakRSS starts a new peak measurement (Linux: clear_refs 5), so the
// peak of one phase is not the peak of the one before. It reports whether
// the kernel took it.
func ResetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// Sampler follows the resident set size of other processes by PID: it
// polls VmRSS every interval and, on Peak, reads VmHWM, the kernel's own
// peak, which a poll can miss between two samples.
type Sampler struct {
	mu     sync.Mutex
	pids   map[string]int
	peak   map[string]int64
	errs   map[string]error
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

// NewSampler starts polling every interval.
func NewSampler(interval time.Duration) *Sampler {
	s := &Sampler{pids: map[string]int{}, peak: map[string]int64{}, errs: map[string]error{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample("VmRSS:")
			}
		}
	}()
	return s
}

// Track follows process pid under name.
func (s *Sampler) Track(name string, pid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pids[name] = pid
}

func (s *Sampler) sample(field string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, pid := range s.pids {
		n, err := readStatus(fmt.Sprintf("/proc/%d/status", pid), field)
		if err != nil {
			// An exited process has no status any more: keep what was seen.
			s.errs[name] = err
			continue
		}
		delete(s.errs, name)
		s.peak[name] = max(s.peak[name], n)
	}
}

// Peak reads every tracked process's VmHWM once more (call it while they
// still run), stops polling and returns the peak of each in bytes: the
// larger of VmHWM and the highest VmRSS polled. A process whose status
// could never be read is missing from the map, and its error returned.
func (s *Sampler) Peak() (map[string]int64, error) {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
	<-s.done
	s.sample("VmHWM:")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.peak))
	var errs []string
	for name := range s.pids {
		if n, ok := s.peak[name]; ok && n > 0 {
			out[name] = n
		} else if err := s.errs[name]; err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", name, err))
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("peak RSS unknown for %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// ProcCPU is the CPU time (user and system) process pid has used, from
// /proc/<pid>/stat (in clock ticks, 100 a second on Linux).
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a
// /proc/<pid>/stat line; the command (field 2) may hold spaces, so fields
// are counted from its closing parenthesis.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("reading CPU time: no command in %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state): utime is field 14, f[11].
	if len(f) < 13 {
		return 0, fmt.Errorf("reading CPU time: %d fields after the command", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("reading CPU time: %w", err)
		}
		ticks += v
	}
	return time.Duration(ticks) * (time.Second / clockTicks), nil
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100
