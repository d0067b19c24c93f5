package braze

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestExportSegmentRequestAndResult(t *testing.T) {
	var body map[string]any
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/users/export/segment" || r.Header.Get("Content-Type") != "application/json" {
			http.NotFound(w, r)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(`{"message":"success","object_prefix":"bb8e-1464728599","url":"https://s3.example/x.zip?sig=1"}`))
	})
	res, err := c.ExportSegment(context.Background(), ExportSegmentRequest{
		SegmentID:      "seg-1",
		FieldsToExport: []string{"braze_id", "email"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res != (ExportSegmentResult{URL: "https://s3.example/x.zip?sig=1", ObjectPrefix: "bb8e-1464728599"}) {
		t.Fatalf("result = %+v", res)
	}
	want := map[string]any{"segment_id": "seg-1", "fields_to_export": []any{"braze_id", "email"}}
	if !reflect.DeepEqual(body, want) {
		t.Fatalf("request body = %v, want %v (optional fields omitted)", body, want)
	}
}

func TestExportSegmentValidatesAndReportsConcurrentExport(t *testing.T) {
	var calls atomic.Int32
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"message":"An export of this segment is already running"}`))
	})
	ctx := context.Background()
	for _, req := range []ExportSegmentRequest{{FieldsToExport: []string{"email"}}, {SegmentID: "s"}} {
		if _, err := c.ExportSegment(ctx, req); err == nil {
			t.Fatalf("ExportSegment(%+v) succeeded, want a validation error", req)
		}
	}
	if calls.Load() != 0 {
		t.Fatal("an invalid request reached the server")
	}
	_, err := c.ExportSegment(ctx, ExportSegmentRequest{SegmentID: "s", FieldsToExport: []string{"email"}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 429 || !Retryable(err) || !strings.Contains(apiErr.Message, "already running") {
		t.Fatalf("err = %v, want APIError 429", err)
	}
}

// exportHost serves an export URL the way S3 does: AccessDenied until ready.
type exportHost struct {
	notReady int // answers 403 this many times first
	truncate int // then cuts this many downloads short
	payload  []byte
	hits     atomic.Int32 // GETs seen
	sawAuth  atomic.Bool
}

func (e *exportHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(e.hits.Add(1))
	if r.Header.Get("Authorization") != "" {
		e.sawAuth.Store(true)
	}
	switch {
	case n <= e.notReady:
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>`))
	case n <= e.notReady+e.truncate:
		w.Header().Set("Content-Length", "100000")
		_, _ = w.Write(e.payload[:len(e.payload)/2])
	default:
		_, _ = w.Write(e.payload)
	}
}

func TestDownloadExportNotReady(t *testing.T) {
	host := &exportHost{notReady: 1, payload: []byte("zipbytes")}
	srv := httptest.NewServer(host)
	defer srv.Close()
	c, rec := newTestClient(t, nil)

	var buf bytes.Buffer
	n, err := c.DownloadExport(context.Background(), srv.URL+"/segment-export/x.zip?X-Amz-Signature=secret", &buf)
	if !errors.Is(err, ErrExportNotReady) || n != 0 || buf.Len() != 0 || Retryable(err) {
		t.Fatalf("first download: n=%d err=%v buf=%q", n, err, buf.String())
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error reveals the URL signature: %v", err)
	}
	n, err = c.DownloadExport(context.Background(), srv.URL+"/segment-export/x.zip?X-Amz-Signature=secret", &buf)
	if err != nil || n != 8 || buf.String() != "zipbytes" {
		t.Fatalf("second download: n=%d err=%v buf=%q", n, err, buf.String())
	}
	if host.sawAuth.Load() {
		t.Fatal("the API key was sent to the export host")
	}
	for _, call := range rec.All() {
		if call.Path != "/segment-export/x.zip" {
			t.Fatalf("call path %q, want the URL path without its query", call.Path)
		}
	}
}

// bufferFile is a destination WaitExport can reopen: each open starts empty.
type bufferFile struct {
	opens, closes int
	buf           bytes.Buffer
}

func (b *bufferFile) open() (io.WriteCloser, error) {
	b.opens++
	b.buf.Reset()
	return b, nil
}

func (b *bufferFile) Write(p []byte) (int, error) { return b.buf.Write(p) }
func (b *bufferFile) Close() error                { b.closes++; return nil }

func TestWaitExport(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 1000)
	fast := Backoff{Initial: time.Millisecond, Max: 4 * time.Millisecond}
	tests := []struct {
		name      string
		notReady  int
		truncate  int
		policy    Backoff
		wantErr   error
		wantOpens int
	}{
		{"ready at once", 0, 0, fast, nil, 1},
		{"403 three times", 3, 0, fast, nil, 1},
		{"truncated then whole", 1, 2, fast, nil, 3},
		{"never ready within the caller's deadline", 1 << 30, 0, Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond}, ErrExportNotReady, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&exportHost{notReady: tt.notReady, truncate: tt.truncate, payload: payload})
			defer srv.Close()
			c, rec := newTestClient(t, nil)
			dst := &bufferFile{}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			if tt.wantErr == nil {
				ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
			}
			defer cancel()
			n, err := c.WaitExport(ctx, srv.URL+"/x.zip", dst.open, tt.policy)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("err = %v, want %v and the deadline", err, tt.wantErr)
				}
				return
			}
			if err != nil || n != int64(len(payload)) || !bytes.Equal(dst.buf.Bytes(), payload) {
				t.Fatalf("n=%d err=%v, got %d bytes", n, err, dst.buf.Len())
			}
			if dst.opens != tt.wantOpens || dst.closes != dst.opens {
				t.Fatalf("opens=%d closes=%d, want %d each", dst.opens, dst.closes, tt.wantOpens)
			}
			calls := rec.All()
			for i, call := range calls {
				if call.Attempt != i+1 {
					t.Fatalf("call %d has Attempt %d", i, call.Attempt)
				}
			}
			if want := tt.notReady + tt.truncate + 1; len(calls) != want {
				t.Fatalf("%d calls, want %d", len(calls), want)
			}
		})
	}
}

func TestWaitExportStopsOnPermanentError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusGone)
	}))
	defer srv.Close()
	c, rec := newTestClient(t, nil)
	dst := &bufferFile{}
	_, err := c.WaitExport(context.Background(), srv.URL+"/x.zip", dst.open, Backoff{Initial: time.Millisecond})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusGone || len(rec.All()) != 1 || dst.opens != 0 {
		t.Fatalf("err = %v after %d calls, %d opens; want one 410", err, len(rec.All()), dst.opens)
	}
}

func TestExportIDs(t *testing.T) {
	var body map[string]any
	c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/users/export/ids" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		_, _ = w.Write([]byte(`{"message":"success","users":[{"braze_id":"b1","external_id":"u1"}],"invalid_user_ids":["u2"]}`))
	})
	ctx := context.Background()
	res, err := c.ExportIDs(ctx, ExportIDsRequest{ExternalIDs: []string{"u1", "u2"}, FieldsToExport: []string{"braze_id"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Users) != 1 || string(res.Users[0]) != `{"braze_id":"b1","external_id":"u1"}` || !reflect.DeepEqual(res.InvalidUserIDs, []string{"u2"}) {
		t.Fatalf("result = %s %v", res.Users, res.InvalidUserIDs)
	}
	want := map[string]any{"external_ids": []any{"u1", "u2"}, "fields_to_export": []any{"braze_id"}}
	if !reflect.DeepEqual(body, want) {
		t.Fatalf("body = %v, want %v", body, want)
	}

	tooMany := make([]string, MaxExportIDs+1)
	for i := range tooMany {
		tooMany[i] = "u"
	}
	invalid := map[string]ExportIDsRequest{
		"no identifier": {FieldsToExport: []string{"email"}},
		"51 ids":        {ExternalIDs: tooMany, FieldsToExport: []string{"email"}},
		"ids and email": {ExternalIDs: []string{"u"}, EmailAddress: "a@b.c", FieldsToExport: []string{"email"}},
		"email and id":  {BrazeID: "b", EmailAddress: "a@b.c", FieldsToExport: []string{"email"}},
		"no fields":     {BrazeID: "b"},
	}
	for name, req := range invalid {
		if _, err := c.ExportIDs(ctx, req); err == nil {
			t.Errorf("%s: ExportIDs succeeded, want a validation error", name)
		}
	}
}
