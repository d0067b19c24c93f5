package resilience

import "github.com/tajo-sync/tajo/pkg/restcall"

// Clock is the time source of limiters and retry loops: restcall's one
// clock, replaced in tests (restcall.ManualClock) so that rate and backoff
// logic is checked without real waiting. The default is
// restcall.SystemClock.
type Clock = restcall.Clock
