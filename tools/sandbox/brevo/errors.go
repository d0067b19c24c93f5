package brevo

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error codes used by Brevo (errorModel and contactErrorModel in the spec).
const (
	codeInvalidParameter   = "invalid_parameter"
	codeMissingParameter   = "missing_parameter"
	codeDocumentNotFound   = "document_not_found"
	codeDuplicateParameter = "duplicate_parameter"
	codeUnauthorized       = "unauthorized"
	codeMethodNotAllowed   = "method_not_allowed"
	codeTooManyRequests    = "too_many_requests"
)

// apiError is an error answer: HTTP status plus Brevo's {code, message[, metadata]} body.
type apiError struct {
	Status   int       `json:"-"`
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	Metadata *metadata `json:"metadata,omitempty"`
}

type metadata struct {
	DuplicateIdentifiers []string `json:"duplicate_identifiers"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func badRequest(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: codeInvalidParameter, Message: fmt.Sprintf(format, args...)}
}

func missing(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: codeMissingParameter, Message: fmt.Sprintf(format, args...)}
}

func notFound(message string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: codeDocumentNotFound, Message: message}
}

// duplicate builds the 400 Brevo answers when identifiers belong to another contact.
// Clients must match on metadata.duplicate_identifiers (Brevo changed codes over time).
func duplicate(idents []string) *apiError {
	return &apiError{
		Status:   http.StatusBadRequest,
		Code:     codeDuplicateParameter,
		Message:  idents[0] + " is already associated with another Contact",
		Metadata: &metadata{DuplicateIdentifiers: idents},
	}
}

// writeJSON writes v with the status; encoding errors can only come from a broken
// connection at this point, so they are dropped.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) { writeJSON(w, e.Status, e) }
