package sandbox

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox/braze"
)

func do(t *testing.T, method, url string, header http.Header, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

func TestStartServeClose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o := DefaultOptions()
	o.Users = 1200
	o.ExportDelay = 50 * time.Millisecond
	sb, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			sb.Close()
		}
	}()
	if !strings.HasPrefix(sb.BrazeAPIKey, "sandbox-braze-") || !strings.HasPrefix(sb.BrevoAPIKey, "xkeysib-sandbox-") ||
		!strings.HasPrefix(sb.BrazeURL, "http://127.0.0.1:") || !strings.HasSuffix(sb.BrevoURL, "/v3") || sb.Gen.N() != 1200 {
		t.Fatalf("sandbox %+v", sb)
	}
	brazeAuth := http.Header{"Authorization": {"Bearer " + sb.BrazeAPIKey}, "Content-Type": {"application/json"}}
	brevoAuth := http.Header{"Api-Key": {sb.BrevoAPIKey}, "Accept": {"application/json"}}
	tests := []struct {
		name   string
		method string
		url    string
		header http.Header
		status int
	}{
		{"braze with key", "GET", sb.BrazeURL + "/segments/list", brazeAuth, 200},
		{"braze without key", "GET", sb.BrazeURL + "/segments/list", http.Header{}, 401},
		{"brevo with key", "GET", sb.BrevoURL + "/contacts/attributes", brevoAuth, 200},
		{"brevo without key", "GET", sb.BrevoURL + "/contacts/attributes", http.Header{}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, data := do(t, tt.method, tt.url, tt.header, ""); status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, data)
			}
		})
	}

	// A whole export through the listener: the URL points back at it.
	status, data := do(t, "POST", sb.BrazeURL+"/users/export/segment", brazeAuth,
		`{"segment_id":"`+braze.AllUsersSegmentID+`","fields_to_export":["email"]}`)
	var e struct{ URL string }
	if err := json.Unmarshal(data, &e); err != nil || status/100 != 2 || !strings.HasPrefix(e.URL, sb.BrazeURL+"/") {
		t.Fatalf("export: %d %s", status, data)
	}
	var zipped []byte
	for deadline := time.Now().Add(5 * time.Second); ; {
		status, zipped = do(t, "GET", e.URL, http.Header{}, "")
		if status == 200 {
			break
		}
		if status != 403 || time.Now().After(deadline) {
			t.Fatalf("export URL: %d %s", status, zipped)
		}
		time.Sleep(20 * time.Millisecond)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		lines += bytes.Count(b, []byte("\n"))
	}
	if lines != o.Users {
		t.Errorf("export has %d lines, want %d", lines, o.Users)
	}

	if err := sb.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closed = true
	for _, u := range []string{sb.BrazeURL + "/segments/list", sb.BrevoURL + "/contacts/attributes"} {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			t.Errorf("%s still answers after Close", u)
		}
	}
}

func TestStartFailsOnBusyAddress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := Start(ctx, Options{Users: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	busy := strings.TrimPrefix(first.BrazeURL, "http://")
	if sb, err := Start(ctx, Options{Users: 10, BrevoAddr: busy}); err == nil {
		sb.Close()
		t.Fatal("Start on a busy address succeeded")
	} else if !strings.Contains(err.Error(), "Brevo simulator") {
		t.Errorf("error %q does not say which simulator", err)
	}
}
