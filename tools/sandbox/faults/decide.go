package faults

import (
	"net/http"
	"time"
)

// Kind names a fault; the empty Kind is no fault.
type Kind string

// The kinds of fault, as Parse names them.
const (
	None            Kind = ""
	TooManyRequests Kind = "429"
	ServerError     Kind = "5xx"
	Timeout         Kind = "timeout"
	Reset           Kind = "reset"
	Lost            Kind = "lost"
	Truncate        Kind = "truncate"
)

// serverErrors are the statuses a 5xx fault picks from, evenly: an
// application error, and a gateway with no healthy or no answering upstream.
var serverErrors = [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}

// decision is what happens to one request.
type decision struct {
	kind    Kind
	status  int           // for ServerError
	latency time.Duration // before anything else
}

// decide draws request n's fault from seed alone, so that the same seed and
// the same order of requests give the same faults. Each choice has its own
// stream of draws, so changing one rate does not reshuffle the latencies.
func (s Spec) decide(seed int64, n uint64) decision {
	d := decision{kind: None}
	u := unit(draw(seed, n, 1))
	acc := 0.0
	for _, r := range s.rates() {
		acc += *r.p
		if u < acc {
			d.kind = Kind(r.name)
			break
		}
	}
	if d.kind == ServerError {
		d.status = serverErrors[draw(seed, n, 2)%uint64(len(serverErrors))]
	}
	d.latency = s.Latency
	if s.Jitter > 0 {
		d.latency += time.Duration((2*unit(draw(seed, n, 3)) - 1) * float64(s.Jitter))
	}
	return d
}

// draw is a 64-bit hash of (seed, n, stream): splitmix64's finalizer applied
// twice, which passes as independent uniform draws for this purpose.
func draw(seed int64, n, stream uint64) uint64 {
	return mix(uint64(seed) ^ mix(n*0x9e3779b97f4a7c15+stream))
}

func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// unit maps a draw to [0, 1).
func unit(x uint64) float64 { return float64(x>>11) / (1 << 53) }
