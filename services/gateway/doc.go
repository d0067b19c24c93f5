// Package gateway is the connector's HTTP entry point: Braze Currents
// (POST /v1/braze/currents), the product page's handleEvent
// (POST /v1/connectors/braze/events) and the control API the @tajo/sdk
// client calls (/v1/connectors/braze/{connect,sync,runs/{id},status,
// segments/export}), described by openapi.yaml, and the URL Brevo calls
// when a contact import finishes (notify.go), relayed to the loader on NATS.
//
// Durability: a sender gets a 2xx only once every event it sent is stored
// by JetStream (a publish acknowledged by the RAW stream, or, for an event
// too large for the bus, its dead letter acknowledged by the DLQ stream).
// While JetStream cannot store, the answer is 503 and Braze re-sends.
//
// Authentication: Currents with the stored Currents token and the control
// and events API with a Tajo API key (pkg/apikeys), both as "Authorization:
// Bearer"; Brevo's import notification with the install's secret in its
// path (Brevo sends no header of ours). All are compared in constant time; no route answers an unauthenticated call with
// anything but 401 (403 for a revoked key). Every request is logged (the
// redacting logger; never a header or a body) and recorded in AUDIT.
//
// A Server is safe for concurrent use; Run serves until its context ends,
// then shuts down gracefully within Config.ShutdownTimeout.
package gateway
