package brevo

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// BenchmarkImportRows measures applying import rows and the memory each stored
// contact costs (reported as B/contact); the connector's bench pushes a million
// contacts through imports.
func BenchmarkImportRows(b *testing.B) {
	srv := New(Config{APIKey: testKey})
	for _, a := range []struct{ name, typ string }{{"SCORE", "float"}, {"DOB", "date"}, {"CITY", "text"}} {
		srv.attrIdx[a.name] = uint16(len(srv.attrs))
		srv.attrs = append(srv.attrs, attribute{name: a.name, category: "normal", typ: map[string]attrType{"float": typeFloat, "date": typeDate, "text": typeText}[a.typ]})
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rows := make([]importRow, b.N)
	for i := range rows {
		rows[i] = importRow{email: fmt.Sprintf("user%d@example.com", i), attrs: map[string]any{
			"EXT_ID": fmt.Sprintf("ext-%d", i), "FIRSTNAME": "Firstname", "LASTNAME": "Lastname",
			"SCORE": float64(i), "DOB": "1990-01-02", "CITY": "Springfield", "SMS": fmt.Sprintf("+3361%07d", i%10000000),
		}}
	}
	p := &importProcess{rows: rows, opts: importOptions{lists: []int32{1}, updateExisting: true}, done: time.Now()}
	b.ResetTimer()
	srv.mu.Lock()
	srv.runImport(p)
	srv.mu.Unlock()
	b.StopTimer()
	rows, p.rows = nil, nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	if p.result.Created != b.N {
		b.Fatalf("created %d of %d", p.result.Created, b.N)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(b.N), "B/contact")
	runtime.KeepAlive(srv)
}
