package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tajo-sync/tajo/pkg/membership"
)

// SegmentDiffResult is one measure of what a segment mirroring run does
// with a segment's members (pkg/membership): sort the new export's members
// (they come in no order) and compare them with the last run's membership.
type SegmentDiffResult struct {
	Members      int           // members of the new membership
	Left, Joined int64         // what the diff found
	Sort, Diff   time.Duration // sorting the new members; the merge diff
	PeakHeap     uint64        // heap in use above the start, at its highest
	FileBytes    int64         // the sorted membership file
}

// SegmentDiff builds a membership of members members, then a new one where
// churn of them left and as many others joined, sorts the new one from an
// unsorted stream and diffs the two, in dir, measuring time and the heap's
// peak (sampled every 5ms). Member ids look like Braze's (24 hex
// digits), identifiers like ext_ids.
func SegmentDiff(dir string, members int, churn float64) (res SegmentDiffResult, err error) {
	res.Members = members
	id := func(i int) string { return fmt.Sprintf("%024x", mix(uint64(i))) }
	ident := func(i int) string { return "x:cust_" + strconv.Itoa(i) }
	every := int(1 / churn)
	gone := func(i int) bool { return mix(uint64(i)^0xc0ffee)%uint64(every) == 0 }

	oldPath := filepath.Join(dir, "membership-old")
	if err := writeMembership(dir, oldPath, members, id, ident, nil); err != nil {
		return res, err
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > base.HeapInuse && ms.HeapInuse-base.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse - base.HeapInuse)
				}
			}
		}
	})
	defer func() { close(stop); wg.Wait(); res.PeakHeap = peak.Load() }()

	// The new export: the members who stay, then as many newcomers as left
	// (ids are hashes, so the stream is in no order).
	start := time.Now()
	newPath := filepath.Join(dir, "membership-new")
	joined := 0
	left := 0
	for i := range members {
		if gone(i) {
			left++
		}
	}
	err = writeMembership(dir, newPath, members+left, id, ident, func(i int) bool {
		if i < members {
			return !gone(i)
		}
		joined++
		return true
	})
	if err != nil {
		return res, err
	}
	res.Sort = time.Since(start)
	if fi, err := os.Stat(newPath); err == nil {
		res.FileBytes = fi.Size()
	}

	start = time.Now()
	oldF, err := os.Open(oldPath)
	if err != nil {
		return res, err
	}
	defer oldF.Close()
	newF, err := os.Open(newPath)
	if err != nil {
		return res, err
	}
	defer newF.Close()
	st, err := membership.Diff(oldF, newF, func(membership.Change, []byte, []byte) error { return nil })
	if err != nil {
		return res, fmt.Errorf("diffing the memberships: %w", err)
	}
	res.Diff = time.Since(start)
	res.Left, res.Joined = st.Left, st.Joined
	if st.Left != int64(left) || st.Joined != int64(joined) {
		return res, fmt.Errorf("the diff found %d left and %d joined, want %d and %d", st.Left, st.Joined, left, joined)
	}
	return res, nil
}

// writeMembership sorts members 0..n-1 (those keep says, all when nil)
// into the file at path, through a membership.Sorter spilling in dir.
func writeMembership(dir, path string, n int, id, ident func(int) string, keep func(int) bool) error {
	s := membership.NewSorter(dir, 0)
	defer s.Close()
	for i := range n {
		if keep != nil && !keep(i) {
			continue
		}
		if err := s.Add(id(i), ident(i)); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := s.WriteTo(f); err != nil {
		return fmt.Errorf("sorting %d members: %w", n, err)
	}
	return f.Sync()
}

// mix is the SplitMix64 finalizer.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// PrintSegmentDiff writes the segment_diff lines: one per size, the last
// with the flatness of the peak heap between the first size and it.
func PrintSegmentDiff(w io.Writer, rs []SegmentDiffResult) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n== segment membership diff (pkg/membership: external sort of the new export, merge diff with the last) ==\n")
	for _, r := range rs {
		fmt.Fprintf(w, "segment_diff.%d: %.2fs (sort %.2fs, diff %.2fs), peak heap %.1f MB, %d left, %d joined, membership file %.1f MB\n",
			r.Members, (r.Sort + r.Diff).Seconds(), r.Sort.Seconds(), r.Diff.Seconds(), float64(r.PeakHeap)/mb, r.Left, r.Joined,
			float64(r.FileBytes)/mb)
	}
	last := rs[len(rs)-1]
	fmt.Fprintf(w, "segment_diff: %d members, 1%% churn: %.2fs, peak heap %.1f MB  # target: memory flat in the members (sorted runs of %d MB spill to disk)",
		last.Members, (last.Sort + last.Diff).Seconds(), float64(last.PeakHeap)/mb, membership.DefaultRunBytes>>20)
	if len(rs) > 1 && rs[0].PeakHeap > 0 {
		fmt.Fprintf(w, " (%.2fx the heap of %d members)", float64(last.PeakHeap)/float64(rs[0].PeakHeap), rs[0].Members)
	}
	fmt.Fprintln(w)
}
