package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/tajo-sync/tajo/proto"
)

// Brevo calls an import's notifyUrl once the import has finished. The
// loader puts in that URL the install's secret (Config.NotifyToken, the
// path's last segment, compared here in constant time) and a reference of
// its own (?import=, 32 hex digits); the gateway relays the call on NATS
// (proto.ImportDoneSubject), where the loader waiting for that import
// hears it and stops polling GET /processes, whose budget is 100 calls an
// hour. Brevo does not document the call's method or body: GET and POST are
// served, and a JSON body's processId is passed on when there is one.
// Nothing is stored: a loader that was not listening polls instead.

// notifyAuthorized reports whether the path carries the install's secret.
func (s *Server) notifyAuthorized(r *http.Request) bool {
	got, want := sha256.Sum256([]byte(r.PathValue("token"))), sha256.Sum256([]byte(s.cfg.NotifyToken))
	return s.cfg.NotifyToken != "" && subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// importDone serves BrevoNotifyPath/{token}.
func (s *Server) importDone(w http.ResponseWriter, r *http.Request) {
	ref := r.URL.Query().Get("import")
	if !isRef(ref) {
		writeError(w, http.StatusBadRequest, "bad_request", "the import query parameter must be the 32 hex digits the loader sent")
		return
	}
	done := proto.ImportDone{Ref: ref}
	if body, err := io.ReadAll(r.Body); err != nil {
		readError(w, err)
		return
	} else if len(body) > 0 {
		var b struct {
			ProcessID json.Number `json:"processId"`
		}
		if json.Unmarshal(body, &b) == nil {
			done.ProcessID, _ = b.ProcessID.Int64()
		}
	}
	data, _ := json.Marshal(done)
	err := s.nc.Publish(proto.ImportDoneSubject(ref), data)
	if err == nil {
		err = s.nc.FlushTimeout(5 * time.Second)
	}
	if err != nil {
		s.log.Warn("relaying an import's completion failed; the loader will poll for it", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the notification could not be relayed")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func isRef(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
