package faults_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox"
	"github.com/tajo-sync/tajo/tools/sandbox/braze"
	"github.com/tajo-sync/tajo/tools/sandbox/faults"
)

// TestSimulatorsUnderEachFault starts the sandbox with one fault on every
// request, makes one write to each simulator (a Brevo contact, a Braze
// segment export), and checks what the client saw, whether the write
// happened (only for lost and truncate, which fault after handling), and
// that the simulators count the request under the fault's status.
func TestSimulatorsUnderEachFault(t *testing.T) {
	for _, tc := range []struct {
		spec    faults.Spec
		client  string // what the client sees
		status  string // counted status; "5xx" matches 500, 502 and 503
		applied bool   // the write happened
	}{
		{faults.Spec{TooManyRequests: 1}, "429", "429", false},
		{faults.Spec{ServerError: 1}, "5xx", "5xx", false},
		{faults.Spec{Timeout: 1}, "timeout", faults.StatusTimeout, false},
		{faults.Spec{Reset: 1}, "reset", faults.StatusReset, false},
		{faults.Spec{Lost: 1}, "reset", faults.StatusLost, true},
		{faults.Spec{Truncate: 1}, "truncated", faults.StatusTruncated, true},
		{faults.Spec{Latency: time.Millisecond}, "ok", "2xx", true},
	} {
		t.Run(tc.spec.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			sb, err := sandbox.Start(ctx, sandbox.Options{Users: 20, Faults: tc.spec, ExportDelay: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := sb.Close(); err != nil {
					t.Error(err)
				}
			})
			c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 300 * time.Millisecond}
			calls := []struct {
				name, url, header, key, body string
				applied                      func() bool
				admin                        string
			}{
				{"brevo", sb.BrevoURL + "/contacts", "api-key", sb.BrevoAPIKey, `{"email":"ada@example.com"}`,
					func() bool { return sb.Brevo.State().Contacts == 1 }, strings.TrimSuffix(sb.BrevoURL, "/v3")},
				{"braze", sb.BrazeURL + "/users/export/segment", "Authorization", "Bearer " + sb.BrazeAPIKey,
					`{"segment_id":"` + braze.AllUsersSegmentID + `","fields_to_export":["braze_id"]}`,
					func() bool { return sb.Braze.ExportsStarted() == 1 }, sb.BrazeURL},
			}
			for _, call := range calls {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, call.url, strings.NewReader(call.body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(call.header, call.key)
				if got := see(c, req); got != tc.client {
					t.Errorf("%s: client saw %s, want %s", call.name, got, tc.client)
				}
				// A timed-out request is counted once the server lets go.
				deadline := time.Now().Add(10 * time.Second)
				for counted(t, call.admin, tc.status) != 1 {
					if time.Now().After(deadline) {
						t.Fatalf("%s: no request counted as %s in the admin state", call.name, tc.status)
					}
					time.Sleep(10 * time.Millisecond)
				}
				if got := call.applied(); got != tc.applied {
					t.Errorf("%s: write applied %v, want %v", call.name, got, tc.applied)
				}
			}
		})
	}
}

// see sends req and names what the client saw.
func see(c *http.Client, req *http.Request) string {
	resp, err := c.Do(req)
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case err != nil:
		return "error " + err.Error()
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated"
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return "429"
	case resp.StatusCode >= 500:
		return "5xx"
	case resp.StatusCode >= 300:
		return resp.Status
	}
	return "ok"
}

// counted reads a simulator's admin state and totals the requests counted
// under status ("5xx" and "2xx" sum a class).
func counted(t *testing.T, base, status string) int {
	t.Helper()
	resp, err := http.Get(base + "/_admin/state")
	if err != nil {
		t.Fatalf("reading the admin state: %v", err)
	}
	defer resp.Body.Close()
	var st struct{ Statuses map[string]int }
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("decoding the admin state: %v", err)
	}
	n := 0
	for s, k := range st.Statuses {
		if s == status || strings.HasSuffix(status, "xx") && len(s) == 3 && s[0] == status[0] {
			n += k
		}
	}
	return n
}
