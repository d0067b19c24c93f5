package braze

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

type entry struct {
	name, body string
	store      bool // no compression
}

func buildZip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		method := zip.Deflate
		if e.store {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// collect renders every delivered Line as "entry:no:data" or "entry:no!err".
func collect(t *testing.T, zipped []byte, maxLine int) ([]string, error) {
	t.Helper()
	var got []string
	err := readExport(bytes.NewReader(zipped), int64(len(zipped)), maxLine, DefaultMaxExportUncompressedBytes, func(l Line) error {
		if l.Err != nil {
			got = append(got, fmt.Sprintf("%s:%d!%v", l.Entry, l.No, errors.Is(l.Err, ErrLineTooLong)))
			return nil
		}
		got = append(got, fmt.Sprintf("%s:%d:%s", l.Entry, l.No, l.Data))
		return nil
	})
	return got, err
}

func TestReadExport(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
		maxLine int
		want    []string
	}{
		{
			name: "several entries, any extension, in order",
			entries: []entry{
				{name: "a/1.txt", body: `{"braze_id":"1"}` + "\n" + `{"braze_id":"2"}` + "\n"},
				{name: "b.json", body: `{"braze_id":"3"}`, store: true},
				{name: "dir/", body: ""},
			},
			maxLine: 100,
			want:    []string{`a/1.txt:1:{"braze_id":"1"}`, `a/1.txt:2:{"braze_id":"2"}`, `b.json:1:{"braze_id":"3"}`},
		},
		{
			name:    "crlf, blank lines and no final newline",
			entries: []entry{{name: "x.txt", body: "a\r\n\r\n\nb\r\nc"}},
			maxLine: 100,
			want:    []string{"x.txt:1:a", "x.txt:4:b", "x.txt:5:c"},
		},
		{
			name:    "empty entry",
			entries: []entry{{name: "e.txt"}, {name: "f.txt", body: "z\n"}},
			maxLine: 100,
			want:    []string{"f.txt:1:z"},
		},
		{
			name:    "line at the limit is delivered, one over is reported and skipped",
			entries: []entry{{name: "l.txt", body: "12345\n123456\r\n" + strings.Repeat("x", 1000) + "\nok\n"}},
			maxLine: 5,
			want:    []string{"l.txt:1:12345", "l.txt:2!true", "l.txt:3!true", "l.txt:4:ok"},
		},
		{
			name:    "overlong line longer than the read buffer",
			entries: []entry{{name: "big.txt", body: "a\n" + strings.Repeat("y", 200<<10) + "\nb"}},
			maxLine: 100 << 10,
			want:    []string{"big.txt:1:a", "big.txt:2!true", "big.txt:3:b"},
		},
		{
			name:    "long line under the limit spans buffer refills",
			entries: []entry{{name: "big.txt", body: strings.Repeat("y", 150<<10) + "\n"}},
			maxLine: MaxExportLine,
			want:    []string{"big.txt:1:" + strings.Repeat("y", 150<<10)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(t, buildZip(t, tt.entries...), tt.maxLine)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestReadExportStopsOnCallbackErrorAndBadArchive(t *testing.T) {
	zipped := buildZip(t, entry{name: "a.txt", body: "1\n2\n3\n"})
	stop := errors.New("stop")
	seen := 0
	err := ReadExport(bytes.NewReader(zipped), int64(len(zipped)), func(l Line) error {
		seen++
		if seen == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || seen != 2 {
		t.Fatalf("err = %v after %d lines, want stop after 2", err, seen)
	}

	if err := ReadExport(bytes.NewReader([]byte("not a zip")), 9, func(Line) error { return nil }); err == nil {
		t.Fatal("reading a non-zip succeeded")
	}

	// Flip a byte of the compressed data: the checksum or inflater must fail.
	corrupt := buildZip(t, entry{name: "a.txt", body: strings.Repeat("line of text\n", 200)})
	corrupt[60] ^= 0xff
	if _, err := collect(t, corrupt, 100); err == nil {
		t.Fatal("reading a corrupt entry succeeded")
	}
}

// FuzzReadExport feeds arbitrary bytes as an archive. ReadExport must not
// panic, and whenever archive/zip can read every entry in full, ReadExport
// must deliver exactly the non-empty lines, once each, in order.
func FuzzReadExport(f *testing.F) {
	f.Add(buildZip(f, entry{name: "a.txt", body: "{\"braze_id\":\"1\"}\n{\"braze_id\":\"2\"}\n"}, entry{name: "b.json", body: "x\r\n\ny"}))
	f.Add(buildZip(f, entry{name: "s.txt", body: "stored\nlines", store: true}))
	f.Add(buildZip(f))
	f.Add([]byte("PK\x03\x04"))
	const maxLine = 64
	f.Fuzz(func(t *testing.T, data []byte) {
		want, ok := referenceLines(data, maxLine)
		var got []string
		err := readExport(bytes.NewReader(data), int64(len(data)), maxLine, DefaultMaxExportUncompressedBytes, func(l Line) error {
			if l.Err != nil {
				got = append(got, fmt.Sprintf("%s:%d!", l.Entry, l.No))
			} else {
				got = append(got, fmt.Sprintf("%s:%d:%s", l.Entry, l.No, l.Data))
			}
			return nil
		})
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("valid archive: %v", err)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("got  %q\nwant %q", got, want)
		}
	})
}

// referenceLines reads the archive the simple way, whole entries in memory.
// ok is false when the archive is not fully readable or too large to check.
func referenceLines(data []byte, maxLine int) (lines []string, ok bool) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !(zr != nil && errors.Is(err, zip.ErrInsecurePath)) {
		return nil, false
	}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, false
		}
		body, err := io.ReadAll(io.LimitReader(rc, 1<<20))
		rc.Close()
		if err != nil || len(body) == 1<<20 {
			return nil, false
		}
		for i, line := range bytes.Split(body, []byte("\n")) {
			line = bytes.TrimSuffix(line, []byte("\r"))
			switch {
			case len(line) > maxLine:
				lines = append(lines, fmt.Sprintf("%s:%d!", f.Name, i+1))
			case len(line) > 0:
				lines = append(lines, fmt.Sprintf("%s:%d:%s", f.Name, i+1, line))
			}
		}
	}
	return lines, true
}
