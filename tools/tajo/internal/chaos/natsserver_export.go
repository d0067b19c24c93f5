package chaos

import "context"

// NATSServer is the external nats-server the chaos run drives, for other
// drivers of the worker processes (the e2e trace test): JetStream on a file
// store, loopback only, credentials required (AuthURL carries them).
type NATSServer = natsServer

// StartNATSServer starts bin (see BuildNATSServer) on a free loopback port
// with its store in storeDir; Stop ends it.
func StartNATSServer(ctx context.Context, bin, storeDir string) (*NATSServer, error) {
	return startNATSServer(ctx, bin, storeDir)
}
