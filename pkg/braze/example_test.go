package braze_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/tajo-sync/tajo/pkg/braze"
)

// Export a segment and read its users, one JSON line at a time. A tiny
// stand-in for Braze serves the API and the export file.
func Example() {
	srv := fakeBraze()
	defer srv.Close()

	c, err := braze.New(braze.Config{BaseURL: srv.URL, APIKey: "REST-API-KEY"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	seg, err := c.FindSegment(ctx, "Newsletter")
	if err != nil {
		log.Fatal(err)
	}
	export, err := c.ExportSegment(ctx, braze.ExportSegmentRequest{
		SegmentID:      seg.ID,
		FieldsToExport: []string{"braze_id", "external_id", "email"},
	})
	if err != nil {
		log.Fatal(err)
	}

	// A file is a destination that can be reopened empty for each attempt.
	f, err := os.CreateTemp("", "export-*.zip")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	f.Close()
	size, err := c.WaitExport(ctx, export.URL, func() (io.WriteCloser, error) { return os.Create(f.Name()) }, braze.Backoff{})
	if err != nil {
		log.Fatal(err)
	}
	zf, err := os.Open(f.Name())
	if err != nil {
		log.Fatal(err)
	}
	defer zf.Close()
	err = braze.ReadExport(zf, size, func(l braze.Line) error {
		if l.Err != nil {
			fmt.Println("skipped", l.Entry, l.No, l.Err)
			return nil
		}
		fmt.Printf("%s:%d %s\n", l.Entry, l.No, l.Data)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// part-1.txt:1 {"braze_id":"b1","external_id":"u1","email":"ann@example.com"}
	// part-1.txt:2 {"braze_id":"b2"}
}

func fakeBraze() *httptest.Server {
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("part-1.txt")
	_, _ = io.WriteString(w, `{"braze_id":"b1","external_id":"u1","email":"ann@example.com"}`+"\n"+`{"braze_id":"b2"}`+"\n")
	_ = zw.Close()

	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("GET /segments/list", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"message":"success","segments":[{"id":"seg-1","name":"Newsletter"}]}`)
	})
	mux.HandleFunc("POST /users/export/segment", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"message":"success","object_prefix":"p","url":%q}`, srv.URL+"/files/export.zip?sig=x")
	})
	mux.HandleFunc("GET /files/export.zip", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(zipped.Bytes())
	})
	srv = httptest.NewServer(mux)
	return srv
}
