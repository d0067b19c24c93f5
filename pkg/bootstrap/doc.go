// Package bootstrap is what every service binary does before its work: find
// and load the config file, build the logger, read the API keys from the
// environment or else the encrypted credential store (pkg/secrets), connect to NATS (NATS_URL or nats.url) and provision the
// streams and buckets. The binaries stay a screen long and behave alike.
package bootstrap
