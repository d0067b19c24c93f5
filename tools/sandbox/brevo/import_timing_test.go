package brevo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func importRows(n int) []map[string]any {
	rows := make([]map[string]any, n)
	for i := range rows {
		rows[i] = map[string]any{"email": fmt.Sprintf("r%d@example.com", i)}
	}
	return rows
}

// TestImportTakesTimeByRows: with ImportRowsPerSecond an import lasts
// ImportDelay plus its rows at that rate, queued for the first quarter; a
// second import starts when the first ends.
func TestImportTakesTimeByRows(t *testing.T) {
	h := newHarness(t, Config{ImportDelay: 2 * time.Second, ImportRowsPerSecond: 100})
	big := h.do("POST", "/v3/contacts/import", map[string]any{"listIds": []int{2}, "jsonBody": importRows(1000)}).expect(t, 202, "")
	steps := []struct {
		at   time.Duration // since submission
		want string
	}{
		{0, "queued"}, {2900 * time.Millisecond, "queued"}, {3 * time.Second, "in_process"},
		{11999 * time.Millisecond, "in_process"}, {12 * time.Second, "completed"}, // 2 s + 1,000 rows at 100/s
	}
	start := h.clock.Now()
	for _, st := range steps {
		h.clock.Advance(start.Add(st.at).Sub(h.clock.Now()))
		if got := h.processStatus(big.body["processId"]); got != st.want {
			t.Fatalf("at %v: %s, want %s", st.at, got, st.want)
		}
	}
	if n := len(h.srv.Contacts()); n != 1000 {
		t.Fatalf("%d contacts after completion, want 1000", n)
	}
	small := h.do("POST", "/v3/contacts/import", map[string]any{"listIds": []int{2}, "jsonBody": importRows(50)}).expect(t, 202, "")
	h.clock.Advance(2499 * time.Millisecond)
	if got := h.processStatus(small.body["processId"]); got != "in_process" {
		t.Fatalf("50 rows after 2.499 s: %s, want in_process (2 s + 0.5 s)", got)
	}
	h.clock.Advance(time.Millisecond)
	if got := h.processStatus(small.body["processId"]); got != "completed" {
		t.Fatalf("50 rows after 2.5 s: %s", got)
	}

	// Without a rate (the default) the rows cost nothing.
	d := newHarness(t, Config{ImportDelay: time.Second})
	p := d.do("POST", "/v3/contacts/import", map[string]any{"listIds": []int{2}, "jsonBody": importRows(1000)}).expect(t, 202, "")
	d.clock.Advance(time.Second)
	if got := d.processStatus(p.body["processId"]); got != "completed" {
		t.Fatalf("default timing, 1,000 rows after ImportDelay: %s", got)
	}
}

// TestImportNotifyURL: a completed import POSTs its notifyUrl, outside the
// state lock (the receiver calls the API back while answering); a notify URL
// that fails or does not answer leaves the import completed.
func TestImportNotifyURL(t *testing.T) {
	h := newHarness(t, Config{ImportDelay: time.Second, NotifyTimeout: 300 * time.Millisecond})
	type call struct {
		body   map[string]any
		status string // the process's status, read back from the receiver
	}
	got := make(chan call, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c call
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&c.body) != nil {
			w.WriteHeader(http.StatusBadRequest)
			got <- c
			return
		}
		// Calling the simulator from inside the notification would deadlock
		// if the notification were sent with the lock held.
		c.status = h.processStatus(c.body["processId"])
		got <- c
	}))
	defer recv.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client giving up
		<-r.Context().Done()
	}))
	defer hang.Close()

	h.do("POST", "/v3/contacts/import", map[string]any{"listIds": []int{2}, "notifyUrl": "ftp://x",
		"jsonBody": importRows(1)}).expect(t, 400, "invalid_parameter")
	ok := h.do("POST", "/v3/contacts/import", map[string]any{"listIds": []int{2}, "notifyUrl": recv.URL + "/done",
		"jsonBody": importRows(3)}).expect(t, 202, "")
	h.do("POST", "/v3/contacts/import", map[string]any{"listIds": []int{2}, "notifyUrl": hang.URL,
		"jsonBody": importRows(2)}).expect(t, 202, "")
	h.do("POST", "/v3/contacts/import", map[string]any{"listIds": []int{2}, "notifyUrl": "http://127.0.0.1:1/refused",
		"jsonBody": importRows(2)}).expect(t, 202, "")
	select {
	case c := <-got:
		t.Fatalf("notified before completion: %+v", c)
	case <-time.After(50 * time.Millisecond):
	}
	h.clock.Advance(time.Second)
	h.processStatus(ok.body["processId"]) // observing the time completes the first import
	select {
	case c := <-got:
		if c.body["processId"] != ok.body["processId"] || c.body["status"] != "completed" || c.status != "completed" {
			t.Fatalf("notification %+v for process %v", c, ok.body["processId"])
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification within 5 s of completion")
	}
	h.clock.Advance(2 * time.Second) // the other two complete
	for id := 2; id <= 3; id++ {     // the refused import got no process
		if s := h.processStatus(id); s != "completed" {
			t.Fatalf("process %d: %s", id, s)
		}
	}
	h.srv.Close() // waits for the calls in flight, the hanging one up to NotifyTimeout
	st := h.srv.State().Imports
	if st.Completed != 3 || st.Notified != 1 || st.NotifyFailed != 2 || st.Rows.Rows != 7 {
		t.Fatalf("imports %+v: want 3 completed, 1 notified, 2 failed notifications", st)
	}
}
