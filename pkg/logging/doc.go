// Package logging builds the connector's structured loggers (log/slog) and
// keeps secrets and personal data out of them.
//
// Every logger made here goes through a redacting slog.Handler: API keys
// (Brevo's xkeysib-..., Bearer tokens, and any key the process was configured
// with), e-mail addresses (the domain is kept: ***@example.com) and phone
// numbers are replaced in messages and attribute values, including errors,
// Stringers and values inside groups. Redaction runs at Handle time, so a
// secret cannot reach the output by way of an attribute added with With.
//
// The handler is safe for concurrent use, as slog requires. Redaction costs a
// few regular-expression scans per string attribute: fine for operational
// logs, not meant for a per-record firehose.
package logging
