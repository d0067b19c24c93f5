package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// apiError is every error body: {"error": code, "message": text}.
type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apiError{Error: code, Message: msg})
}

// readError answers a body that could not be read: 413 over the limit,
// else 400.
func readError(w http.ResponseWriter, err error) {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "the body is over the gateway's limit of "+itoa(mb.Limit)+" bytes")
		return
	}
	writeError(w, http.StatusBadRequest, "bad_request", "reading the body: "+err.Error())
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
