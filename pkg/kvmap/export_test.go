package kvmap

import "time"

// SetAckTimeout shortens how long m waits for a shard write's
// acknowledgement.
func SetAckTimeout(m *Map, d time.Duration) { m.ackTimeout = d }
