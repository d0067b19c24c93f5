// Package sandbox runs the Braze and Brevo API simulators on real loopback
// listeners, with a deterministic population of Braze users: the demo a new
// user sees before they have vendor keys, and what every test, benchmark and
// chaos run talks to over real HTTP.
//
// The simulators (packages braze and brevo) are written from the vendors'
// documentation and specs and share no types with the connector's clients,
// so a client's misreading of an API is caught instead of mirrored. Package
// gen produces the users.
package sandbox
