package gateway

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/trace"

	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/proto"
)

// headerRoom is kept free of MaxPayload for the headers of a message.
const headerRoom = 1 << 10

// dlqSample is how much of an event too large for the bus its dead letter
// keeps: enough to recognise it.
const dlqSample = 4 << 10

// stored is what became of a request's events.
type stored struct {
	stored       int   // in RAW
	deadLettered int   // too large for the bus, in the DLQ
	tooLarge     []int // indexes too large (when not dead-lettering)
}

// TooLargeError is returned by store, when it does not dead-letter, for
// events over the bus's MaxPayload: nothing was stored.
type TooLargeError struct {
	Index, Size, Max int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("event %d is %d bytes encoded, over the bus's limit of %d bytes", e.Index, e.Size, e.Max)
}

// store publishes the events to raw.braze.events, as few messages as the
// bus's MaxPayload allows (one for a Currents batch: a JetStream message
// costs about as much CPU as all the rest of an event's way), and waits
// until the RAW stream has stored each. An event over MaxPayload on its
// own is dead-lettered as too_large (deadLetter) or refuses the request
// with a *TooLargeError before anything is published. Any other failure
// is an error: nothing can be said stored, and the sender must send again
// (the Nats-Msg-Id, a hash of the message's event ids, keeps a re-sent
// identical batch single in the stream; the loader's dedup by event id
// keeps each event single in Brevo whatever the batch's composition).
func (s *Server) store(ctx context.Context, events []proto.RawEvent, deadLetter bool) (stored, error) {
	var res stored
	limit := int(s.nc.MaxPayload()) - headerRoom
	// Each event's encoded size, to cut the request into messages under
	// the limit; a batch's own framing is a few bytes more than the sum.
	const framing = 16
	sizes := make([]int, len(events))
	for i := range events {
		data, err := proto.Encode(&events[i])
		if err != nil {
			return res, fmt.Errorf("encoding event %s: %w", events[i].ID, err)
		}
		if len(data)+framing > limit {
			if !deadLetter {
				return res, &TooLargeError{Index: i, Size: len(data), Max: limit}
			}
			res.tooLarge = append(res.tooLarge, i)
			sizes[i] = -1
			continue
		}
		sizes[i] = len(data)
	}
	var chunks [][]proto.RawEvent
	var cur []proto.RawEvent
	size := framing
	for i, n := range sizes {
		if n < 0 {
			continue
		}
		if len(cur) > 0 && size+n > limit {
			chunks, cur, size = append(chunks, cur), nil, framing
		}
		cur, size = append(cur, events[i]), size+n
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.PublishTimeout)
	defer cancel()
	pub := pipeline.NewPublisher(s.js, len(chunks)+1)
	pub.AckTimeout = s.cfg.PublishTimeout
	var spans []trace.Span
	var err error
	defer func() { endEvents(spans, err) }()
	for _, chunk := range chunks {
		var data []byte
		if data, err = proto.Encode(&proto.RawEvents{V: proto.SchemaVersion, Events: chunk}); err != nil {
			err = fmt.Errorf("encoding %d events: %w", len(chunk), err)
			return res, err
		}
		ids := make([]string, len(chunk))
		for k := range chunk {
			ids[k] = chunk[k].Source + ":" + chunk[k].ID
		}
		hdr := nats.Header{}
		hdr.Set(proto.HeaderSchema, "1")
		if sp := s.traceEvents(ctx, proto.SubjectRawBrazeEvents, chunk, hdr); sp != nil {
			spans = append(spans, sp)
		}
		if err = pub.Publish(ctx, proto.SubjectRawBrazeEvents, proto.EventsMsgID("evb:", ids), hdr, data); err != nil {
			return res, err
		}
		res.stored += len(chunk)
	}
	if err = s.deadLetterTooLarge(ctx, proto.SubjectRawBrazeEvents, events, &res, limit); err != nil {
		return res, err
	}
	if err = pub.Flush(ctx); err != nil {
		err = fmt.Errorf("storing %d events: %w", res.stored, err)
		return res, err
	}
	return res, nil
}

// deadLetterTooLarge dead-letters the events res found too large, with a
// sample of each.
func (s *Server) deadLetterTooLarge(ctx context.Context, subject string, events []proto.RawEvent, res *stored, limit int) error {
	for _, i := range res.tooLarge {
		ev := events[i]
		sample := ev.JSON[:min(len(ev.JSON), dlqSample)]
		hdr := nats.Header{}
		hdr.Set(proto.HeaderMsgID, msgID(ev))
		detail := fmt.Sprintf("%s event %s is %d bytes, over the bus's limit of %d bytes: its first %d bytes are kept",
			ev.Source, ev.ID, len(ev.JSON), limit, len(sample))
		if err := pipeline.PublishDeadLetter(ctx, s.js, proto.StageGateway, "too_large", detail,
			subject, hdr, sample, 0); err != nil {
			return err
		}
		res.deadLettered++
	}
	return nil
}

// storeOn publishes each event to subject as a message of its own (the
// Brevo webhooks), as store does otherwise.
func (s *Server) storeOn(ctx context.Context, subject string, events []proto.RawEvent, deadLetter bool) (stored, error) {
	var res stored
	limit := int(s.nc.MaxPayload()) - headerRoom
	datas := make([][]byte, len(events))
	for i := range events {
		data, err := proto.Encode(&events[i])
		if err != nil {
			return res, fmt.Errorf("encoding event %s: %w", events[i].ID, err)
		}
		if len(data) > limit {
			if !deadLetter {
				return res, &TooLargeError{Index: i, Size: len(data), Max: limit}
			}
			res.tooLarge = append(res.tooLarge, i)
			continue
		}
		datas[i] = data
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.PublishTimeout)
	defer cancel()
	pub := pipeline.NewPublisher(s.js, len(events)+1)
	pub.AckTimeout = s.cfg.PublishTimeout
	var spans []trace.Span
	if s.cfg.Tracer != nil {
		spans = make([]trace.Span, 0, len(events))
	}
	var err error
	defer func() { endEvents(spans, err) }()
	for i, data := range datas {
		if data == nil {
			continue
		}
		hdr := nats.Header{}
		hdr.Set(proto.HeaderSchema, "1")
		if sp := s.traceEvent(ctx, &events[i], hdr); sp != nil {
			spans = append(spans, sp)
		}
		if err = pub.Publish(ctx, subject, msgID(events[i]), hdr, data); err != nil {
			return res, err
		}
		res.stored++
	}
	if err = s.deadLetterTooLarge(ctx, subject, events, &res, limit); err != nil {
		return res, err
	}
	if err = pub.Flush(ctx); err != nil {
		err = fmt.Errorf("storing %d events: %w", res.stored, err)
		return res, err
	}
	return res, nil
}

// msgID deduplicates a re-sent event within the RAW stream's window.
func msgID(ev proto.RawEvent) string { return "ev:" + ev.Source + ":" + ev.ID }
