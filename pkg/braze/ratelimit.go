package braze

import "github.com/tajo-sync/tajo/pkg/restcall"

// RateLimit is the last rate-limit state Braze reported for one bucket.
type RateLimit = restcall.RateLimit

// Rate-limit buckets, after Braze's documented pools. Everything this client
// calls outside /users/export/ids shares the hourly default pool.
const (
	bucketDefault   = "default"
	bucketExportIDs = "users.export.ids"
)
