package braze

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tajo-sync/tajo/pkg/restcall"
)

// A redirect from the Braze URL is an error naming the target; the bearer
// key never reaches it, nor does an export download follow one.
func TestRedirectsAreRefused(t *testing.T) {
	var calls atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = w.Write([]byte(`{"segments":[],"message":"success"}`))
	}))
	defer elsewhere.Close()
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}, func(cfg *Config) { cfg.HTTPClient = &http.Client{Transport: restcall.NewTransport()} })
	_, err := c.ListSegments(context.Background(), 0)
	if !errors.Is(err, restcall.ErrRedirect) || !strings.Contains(err.Error(), elsewhere.URL+"/segments/list") || Retryable(err) {
		t.Fatalf("want a permanent redirect error naming %s, got %v", elsewhere.URL, err)
	}
	assertNoKey(t, err)

	exportHost := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/x.zip", http.StatusFound)
	}))
	defer exportHost.Close()
	var buf bytes.Buffer
	if _, err := c.DownloadExport(context.Background(), exportHost.URL+"/x.zip?sig=s", &buf); !errors.Is(err, restcall.ErrRedirect) {
		t.Fatalf("export download: want a redirect error, got %v", err)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("the redirect target was called %d times", n)
	}
}

// The export holds every user's e-mail and phone: https only, plain http
// only to a loopback address; and never more than the configured size.
func TestExportDownloadRules(t *testing.T) {
	c, _ := newTestClient(t, nil, func(cfg *Config) { cfg.MaxExportBytes = 1000 })
	for _, u := range []string{
		"http://198.51.100.7/segment-export/x.zip?sig=secret",
		"http://exports.localhost/x.zip?sig=secret",
		"ftp://198.51.100.7/x.zip",
		"/relative.zip",
	} {
		_, err := c.DownloadExport(context.Background(), u, &bytes.Buffer{})
		if !errors.Is(err, ErrExportURL) || strings.Contains(err.Error(), "secret") || Retryable(err) {
			t.Errorf("%s: want a permanent ErrExportURL without the signature, got %v", u, err)
		}
	}

	big := bytes.Repeat([]byte("x"), 1001)
	for name, h := range map[string]http.HandlerFunc{
		"announced": func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(big) },
		"streamed": func(w http.ResponseWriter, r *http.Request) {
			for i := range big { // chunked: no Content-Length
				_, _ = w.Write(big[i : i+1])
				if i%100 == 0 {
					w.(http.Flusher).Flush()
				}
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			var buf bytes.Buffer
			_, err := c.DownloadExport(context.Background(), srv.URL+"/x.zip", &buf)
			if !errors.Is(err, ErrExportTooLarge) || Retryable(err) {
				t.Fatalf("want ErrExportTooLarge, got %v", err)
			}
			if buf.Len() > 1001 {
				t.Fatalf("wrote %d bytes past a 1000-byte limit", buf.Len())
			}
			// WaitExport gives up at once.
			if _, err := c.WaitExport(context.Background(), srv.URL+"/x.zip", func() (io.WriteCloser, error) { return nopCloser{io.Discard}, nil }, Backoff{}); !errors.Is(err, ErrExportTooLarge) {
				t.Fatalf("WaitExport: %v", err)
			}
		})
	}
}

// An export whose entries decompress past the limit is refused before a
// line is read.
func TestReadExportCapsTheDecompressedSize(t *testing.T) {
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	for _, name := range []string{"a.txt", "b.txt"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(bytes.Repeat([]byte(`{"external_id":"u"}`+"\n"), 1000)) // 20 kB, compresses well
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	lines := 0
	err := ReadExportLimit(bytes.NewReader(zipped.Bytes()), int64(zipped.Len()), 30_000, func(Line) error { lines++; return nil })
	if !errors.Is(err, ErrExportTooLarge) || lines != 0 {
		t.Fatalf("40 kB against a 30 kB limit: %d lines, err %v", lines, err)
	}
	if err := ReadExportLimit(bytes.NewReader(zipped.Bytes()), int64(zipped.Len()), 50_000, func(Line) error { lines++; return nil }); err != nil || lines != 2000 {
		t.Fatalf("within the limit: %d lines, err %v", lines, err)
	}
}
