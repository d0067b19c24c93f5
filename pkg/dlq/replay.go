package dlq

import (
	"context"
	"fmt"
	"maps"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/proto"
)

// HeaderReplayAttempt counts how often a message came back from the DLQ:
// 1 on its first replay. A stage that fails it again dead-letters it with
// this header among the original ones, so the next replay counts on.
const HeaderReplayAttempt = "Tajo-Replay-Attempt"

// Report says what a replay did.
type Report struct {
	// Replayed counts the letters published back, by original subject.
	Replayed map[string]int
	// Failed lists the letters that were not replayed, or were replayed
	// but are still in the DLQ, with why.
	Failed []Failure
}

// Failure is one letter a replay could not finish.
type Failure struct {
	ID  uint64
	Err error
}

// Total is how many letters went back.
func (r Report) Total() int {
	n := 0
	for _, c := range r.Replayed {
		n += c
	}
	return n
}

func (r *Report) fail(id uint64, err error) { r.Failed = append(r.Failed, Failure{ID: id, Err: err}) }

// Replay replays the dead letters with ids, in the order given. A letter
// that cannot be replayed is reported in Report.Failed and the others go
// on; the error is for failures that stop the whole replay (no DLQ stream,
// ctx done).
func Replay(ctx context.Context, js jetstream.JetStream, ids []uint64) (Report, error) {
	rep := Report{Replayed: map[string]int{}}
	s, err := stream(ctx, js)
	if err != nil {
		return rep, fmt.Errorf("replaying dead letters: %w", err)
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("replaying dead letters: %w", err)
		}
		it, err := Get(ctx, js, id)
		if err != nil {
			rep.fail(id, err)
			continue
		}
		replayItem(ctx, js, s, it, &rep)
	}
	return rep, nil
}

// ReplayFilter replays the dead letters f selects, oldest first, at most
// f.Limit when it is set. Letters dead-lettered again while it runs are
// left for the next replay.
func ReplayFilter(ctx context.Context, js jetstream.JetStream, f Filter) (Report, error) {
	rep := Report{Replayed: map[string]int{}}
	if err := f.validate(); err != nil {
		return rep, fmt.Errorf("replaying dead letters: %w", err)
	}
	s, err := stream(ctx, js)
	if err != nil {
		return rep, fmt.Errorf("replaying dead letters: %w", err)
	}
	seen := 0
	err = scan(ctx, js, f.Subject(), func(it Item) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		replayItem(ctx, js, s, it, &rep)
		seen++
		return f.Limit == 0 || seen < f.Limit, nil
	})
	if err != nil {
		return rep, fmt.Errorf("replaying dead letters under %s: %w", f.Subject(), err)
	}
	return rep, nil
}

// replayItem publishes it back and then deletes it from the DLQ, in that
// order: a crash in between leaves a duplicate, never a loss.
func replayItem(ctx context.Context, js jetstream.JetStream, s jetstream.Stream, it Item, rep *Report) {
	if it.Err != nil {
		rep.fail(it.ID, fmt.Errorf("not replayed: %w", it.Err))
		return
	}
	m, err := replayMsg(it)
	if err != nil {
		rep.fail(it.ID, err)
		return
	}
	if _, err := js.PublishMsg(ctx, m); err != nil {
		rep.fail(it.ID, fmt.Errorf("publishing dead letter %d back to %s (is a stream bound to that subject? the letter stays in the DLQ): %w",
			it.ID, m.Subject, err))
		return
	}
	rep.Replayed[m.Subject]++
	if err := s.DeleteMsg(ctx, it.ID); err != nil {
		rep.fail(it.ID, fmt.Errorf("dead letter %d was published back to %s but is still in the DLQ (delete it with care: replaying it again duplicates it): %w",
			it.ID, m.Subject, err))
	}
}

// replayMsg is the message a replay of it publishes: the original subject,
// data and headers, one more replay attempt, and a Nats-Msg-Id of its own.
func replayMsg(it Item) (*nats.Msg, error) {
	dl := it.Letter
	if dl.OriginalSubject == "" {
		return nil, fmt.Errorf("dead letter %d names no original subject: nothing to replay it to", it.ID)
	}
	hdr := nats.Header(maps.Clone(dl.Headers))
	if hdr == nil {
		hdr = nats.Header{}
	}
	attempt := 1
	if prev := hdr.Get(HeaderReplayAttempt); prev != "" {
		n, err := strconv.Atoi(prev)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("dead letter %d: header %s is %q, not a count", it.ID, HeaderReplayAttempt, prev)
		}
		attempt = n + 1
	}
	hdr.Set(HeaderReplayAttempt, strconv.Itoa(attempt))
	hdr.Set(proto.HeaderMsgID, replayMsgID(it.ID, attempt))
	return &nats.Msg{Subject: dl.OriginalSubject, Header: hdr, Data: dl.Data}, nil
}

// replayMsgID is unique per letter and attempt: the target stream's
// deduplication would otherwise drop the replay as a copy of the original,
// while a retried replay of the same letter is still stored once.
func replayMsgID(id uint64, attempt int) string {
	return "replay:" + strconv.FormatUint(id, 10) + ":" + strconv.Itoa(attempt)
}
