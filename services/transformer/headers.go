package transformer

import "github.com/nats-io/nats.go"

// carryHeaders copies to the message a worker publishes the headers of the
// message it came from that say where it belongs (its run's line, its
// trace): those of keys that from holds.
func carryHeaders(to, from nats.Header, keys ...string) {
	for _, h := range keys {
		if v := from.Get(h); v != "" {
			to.Set(h, v)
		}
	}
}
