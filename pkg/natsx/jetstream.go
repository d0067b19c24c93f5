package natsx

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// AckTimeout is how long an asynchronous publish waits for the stream's
// acknowledgement before it counts as failed. A server that loses its
// stream leader while a publish is in flight never answers it: without a
// bound the publish would wait forever and keep its place in the
// connection's window of publishes in flight.
const AckTimeout = 30 * time.Second

// JetStream opens JetStream on nc with the project's defaults (an
// asynchronous publish fails after AckTimeout); options in opts are applied
// after them and override them.
func JetStream(nc *nats.Conn, opts ...jetstream.JetStreamOpt) (jetstream.JetStream, error) {
	js, err := jetstream.New(nc, append([]jetstream.JetStreamOpt{jetstream.WithPublishAsyncTimeout(AckTimeout)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("opening JetStream: %w", err)
	}
	return js, nil
}

// Transient reports the errors of a server or cluster that answers too
// late or not at all for now: a request timeout, no responder or no stream
// leader yet, a connection reconnecting, JetStream briefly unavailable (a
// cluster electing a leader answers 503). The next try may well succeed.
// A closed connection is not among them: it never comes back.
func Transient(err error) bool {
	if api, ok := errors.AsType[*jetstream.APIError](err); ok && api.Code == 503 {
		return true
	}
	return errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrDisconnected) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrNoStreamResponse)
}
