// Package nodesdk holds a test that drives the Brevo simulator with Brevo's
// official Node SDK (@getbrevo/brevo, pinned with its lockfile here): a
// client nobody on this project wrote, so the simulator is held to what
// Brevo's own clients read, not to what pkg/brevo expects. The test installs
// the SDK with `npm ci` when node_modules is missing and skips, saying so,
// when Node is not installed (.ci/run installs it).
package nodesdk
