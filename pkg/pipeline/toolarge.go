package pipeline

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
)

// ErrTooLarge is wrapped by the error of a publish whose message is over
// the server's max payload (1 MiB by default). The server would refuse it;
// a caller dead-letters the record (reason ReasonTooLarge) and goes on, so
// one oversized record never stops the ones behind it.
var ErrTooLarge = errors.New("message over the NATS server's max payload")

// ReasonTooLarge is the dead-letter reason of a record too large for the bus.
const ReasonTooLarge = "too_large"

// TooLargeError says by how much.
type TooLargeError struct {
	Size, Max int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%v: %d bytes, the server takes %d", ErrTooLarge, e.Size, e.Max)
}

func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// msgSize is what the server counts against its max payload: the data and
// the encoded headers.
func msgSize(m *nats.Msg) int64 {
	n := int64(len(m.Data))
	if len(m.Header) > 0 {
		n += int64(len("NATS/1.0\r\n\r\n"))
		for k, vs := range m.Header {
			for _, v := range vs {
				n += int64(len(k) + len(": ") + len(v) + len("\r\n"))
			}
		}
	}
	return n
}

// checkSize refuses m when it is over nc's max payload, the limit the
// server announced: not a constant, since deployments raise it.
func checkSize(nc *nats.Conn, m *nats.Msg) error {
	limit := nc.MaxPayload()
	if limit <= 0 {
		return nil // not connected yet: the publish itself will say
	}
	if size := msgSize(m); size > limit {
		return &TooLargeError{Size: size, Max: limit}
	}
	return nil
}
