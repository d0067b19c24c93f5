package gateway_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/logging"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/proto"
	"github.com/tajo-sync/tajo/services/gateway"
)

// Brevo's call of an import's notifyUrl is relayed on NATS to the loader
// waiting for that import, only with the install's secret in the path;
// the secret never reaches the log.
func TestImportNotificationIsRelayed(t *testing.T) {
	const secret = "5ec7e7000000000000000000000000000000000000000000000000000000beef"
	const ref = "0123456789abcdef0123456789abcdef"
	_, nc, _ := natsxtest.Start(t)
	var logBuf bytes.Buffer
	log := logging.New(&logBuf, logging.Options{Format: logging.JSON})
	g, err := gateway.New(nc, gateway.Config{NotifyToken: secret, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	url := httptestServer(t, g.Handler())
	got, err := nc.SubscribeSync(proto.ImportDoneSubject(ref))
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	call := func(method, path, body string) int {
		t.Helper()
		req, err := http.NewRequest(method, url+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name, method, path string
		want               int
	}{
		{"wrong secret", "POST", proto.BrevoNotifyPath + "/" + strings.Repeat("0", 64) + "?import=" + ref, http.StatusUnauthorized},
		{"no secret", "POST", proto.BrevoNotifyPath + "/?import=" + ref, http.StatusNotFound},
		{"bad reference", "POST", proto.BrevoNotifyPath + "/" + secret + "?import=nope", http.StatusBadRequest},
	} {
		if code := call(tc.method, tc.path, ""); code != tc.want {
			t.Errorf("%s: answered %d, want %d", tc.name, code, tc.want)
		}
	}
	if m, err := got.NextMsg(100 * time.Millisecond); err == nil {
		t.Fatalf("a refused call was relayed: %s", m.Data)
	}
	if code := call("POST", proto.BrevoNotifyPath+"/"+secret+"?import="+ref, `{"processId":42,"status":"completed"}`); code != http.StatusNoContent {
		t.Fatalf("Brevo's call answered %d, want 204", code)
	}
	m, err := got.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("nothing relayed: %v", err)
	}
	var done proto.ImportDone
	if err := json.Unmarshal(m.Data, &done); err != nil || done.Ref != ref || done.ProcessID != 42 {
		t.Fatalf("relayed %s (%v), want ref %s and process 42", m.Data, err, ref)
	}
	// GET works too, without a body (Brevo documents neither).
	if code := call("GET", proto.BrevoNotifyPath+"/"+secret+"?import="+ref, ""); code != http.StatusNoContent {
		t.Fatalf("a GET answered %d, want 204", code)
	}
	if _, err := got.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("the GET was not relayed: %v", err)
	}
	if strings.Contains(logBuf.String(), secret) {
		t.Errorf("the secret reached the log:\n%s", logBuf.String())
	}
	// Without a secret configured, the route refuses everyone.
	g2, err := gateway.New(nc, gateway.Config{})
	if err != nil {
		t.Fatal(err)
	}
	url = httptestServer(t, g2.Handler())
	if code := call("POST", proto.BrevoNotifyPath+"/"+secret+"?import="+ref, ""); code != http.StatusUnauthorized {
		t.Errorf("no secret configured: a call answered %d, want 401", code)
	}
}
