package brevo

import (
	"bytes"
	"encoding/json"
	"io"
)

// notify POSTs a completed import's notifyUrl, as Brevo calls it "on
// completion"; call with the lock held. The call runs on its own goroutine so
// the state lock is never held across the network, and its outcome changes
// nothing about the import: a notify URL that fails, answers an error or
// hangs (up to Config.NotifyTimeout) only shows in the admin counters.
// Brevo's specs do not give the notification's body; the sandbox sends
// {"processId", "name", "status":"completed"}, enough for a client to read
// GET /processes/{id}, which is what it should trust.
func (s *Server) notify(p *importProcess) {
	if s.closed {
		return
	}
	body, _ := json.Marshal(map[string]any{"processId": p.id, "name": p.name, "status": "completed"})
	target := p.notifyURL
	s.notifies.Add(1)
	go func() {
		defer s.notifies.Done()
		ok := false
		resp, err := s.notifier.Post(target, "application/json", bytes.NewReader(body))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ok = resp.StatusCode/100 == 2
		}
		s.mu.Lock()
		if ok {
			s.stats.notified++
		} else {
			s.stats.notifyFailed++
		}
		s.mu.Unlock()
	}()
}

// Close waits for notifyUrl calls in flight (each bounded by
// Config.NotifyTimeout) and makes later completions call nothing; webhook
// events pending are delivered (one try each) first. The
// server still answers requests; close its listener first.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.notifies.Wait()
	s.out.close()
}
