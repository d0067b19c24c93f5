package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

// PublishDeadLetter publishes a proto.DeadLetter for a message that could
// not be handled to proto.DLQSubject(stage, reason) and waits for the DLQ
// stream to store it. It is for callers with no incoming message (the
// extractor dead-letters a malformed export line); the Worker dead-letters
// on its own. The dead letter's Nats-Msg-Id derives from the original's
// Nats-Msg-Id header (or from subject and data), so a retry stores it once.
func PublishDeadLetter(ctx context.Context, js jetstream.JetStream, stage, reason string, detail string,
	subject string, hdr nats.Header, data []byte, attempts uint64) error {
	id := hdr.Get(proto.HeaderMsgID)
	if id == "" {
		id = proto.MsgID(subject, "", data)
	}
	m, err := deadLetterMsg(stage, reason, detail, subject, hdr, data, attempts, "dlq:"+proto.Token(stage)+":"+id)
	if err != nil {
		return err
	}
	if m, err = fit(js.Conn(), m); err != nil {
		return err
	}
	if _, err := js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("publishing dead letter of %s to %s: %w", subject, m.Subject, err)
	}
	return nil
}

// fit returns m, or, when m is over the bus's max payload (a record near
// the limit plus the dead letter's own fields), m without the original
// body: the dead letter keeps its subject, headers, reason and the body's
// size, which is what an operator needs to find the record at its source.
func fit(nc *nats.Conn, m *nats.Msg) (*nats.Msg, error) {
	if checkSize(nc, m) == nil {
		return m, nil
	}
	var dl proto.DeadLetter
	if err := proto.Decode(m.Data, &dl); err != nil {
		return nil, fmt.Errorf("re-reading an oversized dead letter: %w", err)
	}
	dl.Detail += fmt.Sprintf(" (the original body, %d bytes, is not kept: over the bus's max payload)", len(dl.Data))
	dl.Data = nil
	body, err := proto.Encode(&dl)
	if err != nil {
		return nil, fmt.Errorf("encoding dead letter of %s: %w", dl.OriginalSubject, err)
	}
	out := nats.NewMsg(m.Subject)
	out.Header, out.Data = m.Header, body
	if err := checkSize(nc, out); err != nil {
		return nil, fmt.Errorf("dead letter of %s: %w", dl.OriginalSubject, err)
	}
	return out, nil
}

// deadLetterMsg builds the DLQ message; msgID deduplicates it.
func deadLetterMsg(stage, reason, detail, subject string, hdr nats.Header, data []byte, attempts uint64, msgID string) (*nats.Msg, error) {
	dl := &proto.DeadLetter{
		V:               proto.SchemaVersion,
		Stage:           stage,
		Reason:          proto.Token(reason),
		Detail:          detail,
		OriginalSubject: subject,
		Headers:         map[string][]string(hdr),
		Data:            data,
		Attempts:        attempts,
		RunID:           hdr.Get(proto.HeaderRunID),
		FailedAt:        time.Now().UnixMilli(),
	}
	body, err := proto.Encode(dl)
	if err != nil {
		return nil, fmt.Errorf("encoding dead letter of %s: %w", subject, err)
	}
	m := nats.NewMsg(proto.DLQSubject(stage, reason))
	m.Data = body
	m.Header.Set(proto.HeaderMsgID, msgID)
	m.Header.Set(proto.HeaderSchema, strconv.Itoa(proto.SchemaVersion))
	if dl.RunID != "" {
		m.Header.Set(proto.HeaderRunID, dl.RunID)
	}
	return m, nil
}

// deadLetterID is the Nats-Msg-Id of the dead letter of a stream message:
// a redelivery of the same message produces the same id.
func deadLetterID(stage, stream string, m *Msg) string {
	// The original's own id is content-derived: the same record dead-lettered
	// again after a redelivery, a replay of its run or a resumed export is
	// stored once (within the DLQ stream's dedup window).
	if id := m.Header.Get(proto.HeaderMsgID); id != "" {
		return "dlq:" + proto.Token(stage) + ":" + id
	}
	return "dlq:" + stream + ":" + strconv.FormatUint(m.StreamSeq, 10)
}

// PublishSideLetter records in the DLQ, under reason, something m's record
// is passed on without (an identifier left off a contact), without holding
// m back: m is still handled and acked. One side letter is kept per run,
// record key and content (fingerprint), however often m is delivered.
func PublishSideLetter(ctx context.Context, js jetstream.JetStream, stage, reason, detail string, m *Msg,
	run, key, fingerprint string) error {
	if err := m.Load(ctx); err != nil {
		return err
	}
	hdr := make(nats.Header, len(m.Header)+1)
	for k, v := range m.Header {
		hdr[k] = v
	}
	hdr.Set(proto.HeaderMsgID, proto.MsgID("side."+reason+"."+run, key, []byte(fingerprint)))
	return PublishDeadLetter(ctx, js, stage, reason, detail, m.Subject, hdr, m.Data, m.NumDelivered)
}
