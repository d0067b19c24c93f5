package bench

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
	"github.com/tajo-sync/tajo/tools/tajo/internal/app"
)

func sampleReport(users int) *Report {
	r := &Report{
		Users: users, PipelineRate: 5000, PipelineTime: 20 * time.Second, BaselineRate: 20000,
		PeakRSS: 300 * mb, PeakRSSAll: 310 * mb, BaselinePeakRSS: 90 * mb, PeakReset: true,
		Summary: app.Summary{Created: int64(users)},
		Incrementals: []Incremental{
			{Changed: users / 100, Writes: users / 100, Time: 2 * time.Second},
			{Changed: users / 100, Writes: users / 100, Time: 3 * time.Second},
		},
		Store: []StoreSample{
			{Sync: "full", Bytes: int64(users) * 400, Streams: map[string]int64{"RAW": 0, "OPS": 0, "KV_tajo_claims": 7}},
			{Sync: "incremental 1", Bytes: int64(users) * 420, Streams: map[string]int64{"RAW": 10, "OPS": 0}},
			{Sync: "incremental 2", Bytes: int64(users) * 450, Streams: map[string]int64{"RAW": 20, "OPS": 5}},
		},
		Shape: &ShapeResult{Users: users, Time: 25 * time.Second, Rate: 4000,
			PeakRSS: map[string]int64{"extractor": 40 * mb, "transformer": 50 * mb, "loader": 60 * mb, "nats-server": 70 * mb}},
	}
	return r
}

// The lines the targets are read from are there, machine-readable.
func TestReportPrintsTheTargetLines(t *testing.T) {
	r := sampleReport(100000)
	r.Limits = &ShapeResult{Users: 5000, VendorLimits: true, Time: 36 * time.Second, Imports: 1, ImportRows: 5000,
		Polls: 4, Status429: 2, ImportTime: 15 * time.Second}
	var b bytes.Buffer
	r.Print(&b)
	out := b.String()
	for _, want := range []string{
		`(?m)^ratio: 0\.25  #`,
		`(?m)^peak_rss_mb: 300\.0  #`,
		`(?m)^incremental_writes: 1000  #`,
		`(?m)^incremental_ratio: 0\.100  #`,
		`(?m)^store_bytes_per_user: 450  #`,
		`(?m)^work_stream_bytes\.RAW: 0 10 20  #`,
		`(?m)^work_stream_bytes\.OPS: 0 0 5  #`,
		`(?m)^peak_rss_mb\.extractor: 40\.0  #`,
		`(?m)^peak_rss_mb\.transformer: 50\.0  #`,
		`(?m)^peak_rss_mb\.loader: 60\.0  #`,
		`(?m)^peak_rss_mb\.nats-server: 70\.0  #`,
		`(?m)^vendor_limits: users 5000, imports 1 \(5000 rows\), GET /processes polls 4, 429s 2, total 36s, simulated Brevo processing 15s$`,
		`(?m)^vendor_limits_ratio: 2\.40  #`,
		`KV_tajo_claims +7 +0 +0`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("no line matching %s in\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAILED") {
		t.Errorf("no problems, yet FAILED printed:\n%s", out)
	}
	r.Problems = []string{"incremental sync 1 wrote 3 contact rows"}
	b.Reset()
	r.Print(&b)
	if !strings.Contains(b.String(), "FAILED:\n  - incremental sync 1 wrote 3") {
		t.Errorf("the problem is not listed:\n%s", b.String())
	}
}

func TestPrintTable(t *testing.T) {
	small, big := sampleReport(100000), sampleReport(1000000)
	big.Shape = nil
	big.Problems = []string{"incremental sync 1 wrote 3 contact rows"}
	var b bytes.Buffer
	PrintTable(&b, []ScaleRow{{Report: small}, {Report: big}, {Report: &Report{Users: 3000000}, Err: errors.New("out of memory")}})
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header and three rows, got:\n%s", b.String())
	}
	head := strings.Fields(lines[0])
	if strings.Join(head, " ") != "users users/s ratio peak MB store B/user incr ratio shape users/s extractor MB transformer MB loader MB nats-server MB checks" {
		t.Errorf("header %q", lines[0])
	}
	if got := strings.Fields(lines[1]); strings.Join(got, " ") != "100000 5000 0.25 300 450 0.100 4000 40 50 60 70 ok" {
		t.Errorf("row of 100000: %q", lines[1])
	}
	if got := strings.Fields(lines[2]); strings.Join(got, " ") != "1000000 5000 0.25 300 450 0.100 - - - - - 1 failed" {
		t.Errorf("row without the production shape: %q", lines[2])
	}
	if !strings.HasPrefix(strings.TrimSpace(lines[3]), "3000000") || !strings.Contains(lines[3], "failed: out of memory") {
		t.Errorf("failed row: %q", lines[3])
	}
	// Right-aligned columns: every row as wide as the header.
	for _, l := range lines[1:3] {
		if len(strings.TrimRight(l, " ")) != len(strings.TrimRight(lines[0], " ")) {
			t.Errorf("row %q is not aligned with the header %q", l, lines[0])
		}
	}
}

func TestImportTimeAndCounters(t *testing.T) {
	ep := Endpoints{ImportDelay: 5 * time.Second, ImportRowsPerSecond: 500}
	if got := ep.ImportTime(3, 10000); got != 35*time.Second {
		t.Errorf("3 imports of 10,000 rows: %s, want 35s", got)
	}
	if got := (Endpoints{ImportDelay: 200 * time.Millisecond}).ImportTime(2, 10000); got != 400*time.Millisecond {
		t.Errorf("rows cost nothing: %s, want 400ms", got)
	}
	st := brevosim.State{Requests: map[string]int{
		"POST /v3/contacts 201": 3, "POST /v3/contacts 400": 1, "POST /v3/contacts/import 202": 2,
		"GET /v3/processes/{processId} 200": 5, "GET /v3/processes 200": 1, "GET /v3/contacts 200": 9,
	}}
	st.Imports.Rows.Rows = 7000
	if got := Writes(st); got != 7004 {
		t.Errorf("Writes = %d, want 7000 import rows + 4 single upserts", got)
	}
	if got := Polls(st); got != 6 {
		t.Errorf("Polls = %d, want 6", got)
	}
}

func TestImportFillsFromTheLoaderLog(t *testing.T) {
	log := `time=x level=INFO msg=importing service=loader rows=27000 bytes=7800000 fill=97% notify=true
time=x level=WARN msg="something else" fill=12%
time=x level=INFO msg=importing service=loader rows=100 bytes=30000 fill=0% notify=true
{"time":"x","level":"INFO","msg":"importing","service":"loader","rows":27100,"bytes":7700000,"fill":"96%","notify":true}
{"time":"x","level":"INFO","msg":"imported","fill":"11%"}
`
	if got := importFills(log); len(got) != 3 || got[0] != 0.97 || got[1] != 0 || got[2] != 0.96 {
		t.Fatalf("fills %v, want [0.97 0 0.96]", got)
	}
}
