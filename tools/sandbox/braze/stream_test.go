package braze

import (
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
