package mapping

import "fmt"

// Reasons a record cannot be mapped. They are short tokens, stable across
// releases, used as the last token of DLQ subjects.
const (
	ReasonMalformedJSON = "malformed_json"
	ReasonNoBrazeID     = "no_braze_id"
	ReasonNoIdentifier  = "no_identifier"
	ReasonInvalidEmail  = "invalid_email"
)

// RecordError says why a whole record cannot become a Brevo contact. Retrying
// cannot help: the record belongs in the dead-letter queue.
type RecordError struct {
	Reason string `json:"reason"` // one of the Reason* tokens
	Detail string `json:"detail"` // human-readable; never contains the record's personal data
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("unmappable record (%s): %s", e.Reason, e.Detail)
}

func recordErr(reason, format string, args ...any) *RecordError {
	return &RecordError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}
