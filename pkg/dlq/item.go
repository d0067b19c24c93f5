package dlq

import (
	"fmt"
	"time"

	"github.com/tajo-sync/tajo/proto"
)

// Item is one dead letter as stored in the DLQ stream.
type Item struct {
	ID      uint64    // sequence in the DLQ stream
	Subject string    // dlq.<stage>.<reason>
	Time    time.Time // when the DLQ stream stored it
	Letter  proto.DeadLetter
	// Err is set when the letter could not be decoded (e.g. written by a
	// newer tajo); Letter then holds only the stage and reason of Subject.
	Err error
}

// decodeItem decodes a DLQ message. A message that does not decode is
// still an Item, so one bad letter does not hide the others.
func decodeItem(id uint64, subject string, t time.Time, data []byte) Item {
	it := Item{ID: id, Subject: subject, Time: t}
	if err := proto.Decode(data, &it.Letter); err != nil {
		it.Letter = proto.DeadLetter{}
		it.Letter.Stage, it.Letter.Reason, _ = splitSubject(subject)
		it.Err = fmt.Errorf("dead letter %d on %s: %w", id, subject, err)
	}
	return it
}
