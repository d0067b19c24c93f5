// Package deploytest checks the deployment files (docker-compose.yml,
// deploy/docker/Dockerfile, deploy/nats/cluster.conf, deploy/config) without
// Docker: it parses them and checks that they name real files, real build
// targets and a consistent bus address. It has tests only.
package deploytest
