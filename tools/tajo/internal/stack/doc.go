// Package stack runs the connector's services as separate processes, the
// way a deployment does: each binary built from its cmd package, connected
// to one NATS server through NATS_URL (credentials included: the server
// requires them) and reading one config file. Tests use
// it to prove the binaries work together, and the chaos run uses it to kill
// and restart them.
package stack
