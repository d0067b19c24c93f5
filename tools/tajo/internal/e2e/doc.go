// Package e2e holds the end-to-end tests `make e2e` runs (build tag e2e):
// the worker binaries as separate processes on an external nats-server,
// the sandbox over real HTTP, and a real Jaeger, built from the pinned tools
// module in tools/jaeger, receiving their traces.
package e2e
