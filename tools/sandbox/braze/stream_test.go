package braze

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"testing"

	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// TestExportStreamsInFlatMemory proves the ZIP is written as users are
// generated: serving (and reading) an export allocates far less than the
// export's size.
func TestExportStreamsInFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 40,000 users")
	}
	const n = 40000
	_, ts := start(t, Config{Gen: gen.New(1, n), ExportDelay: -1})
	e := requestExport(t, ts, map[string]any{"segment_id": AllUsersSegmentID, "fields_to_export": gen.Fields()})

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	resp, err := http.Get(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	zipped, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("download: %d %v", resp.StatusCode, err)
	}
	runtime.ReadMemStats(&after)

	raw := int64(n * 1000) // a line is about 1.2 KB
	allocated := int64(after.TotalAlloc - before.TotalAlloc)
	if allocated > raw/8 {
		t.Errorf("serving %d users (%d zipped bytes) allocated %d bytes: the export is not streamed", n, zipped, allocated)
	}
	t.Logf("%d users: %d zipped bytes, %d bytes allocated", n, zipped, allocated)
}

func BenchmarkExportDownload(b *testing.B) {
	for _, store := range []bool{false, true} {
		name := "deflate"
		if store {
			name = "store"
		}
		b.Run(name, func(b *testing.B) {
			const n = 20000
			_, ts := start(b, Config{Gen: gen.New(1, n), ExportDelay: -1, StoreExports: store})
			for b.Loop() {
				e := requestExport(b, ts, map[string]any{"segment_id": AllUsersSegmentID, "fields_to_export": gen.Fields()})
				resp, err := http.Get(e.URL)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/user")
		})
	}
}

// Braze makes an export's file before it is ready, so its download is a
// transfer, not the making of it: the first download serves the file made
// at the request, whole with its length; the next one, the file given
// back, makes the same archive again as it streams.
func TestExportIsMadeBeforeItIsReady(t *testing.T) {
	_, ts := start(t, Config{Gen: gen.New(1, 2000), ExportDelay: -1})
	e := requestExport(t, ts, map[string]any{"segment_id": AllUsersSegmentID, "fields_to_export": gen.Fields()})
	get := func() (int64, []byte) {
		t.Helper()
		resp, err := http.Get(e.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("download: %d %v", resp.StatusCode, err)
		}
		return resp.ContentLength, b
	}
	n1, first := get()
	n2, second := get()
	if n1 != int64(len(first)) {
		t.Errorf("first download: Content-Length %d for %d bytes; want the file made at the request, whole", n1, len(first))
	}
	if n2 != -1 {
		t.Errorf("second download: Content-Length %d; want it streamed, the file given back after the first", n2)
	}
	if !bytes.Equal(first, second) {
		t.Errorf("the two downloads differ (%d and %d bytes)", len(first), len(second))
	}
}
