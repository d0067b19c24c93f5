package dlq

import (
	"fmt"
	"strings"

	"github.com/tajo-sync/tajo/proto"
)

// Filter selects dead letters by stage and reason; empty fields match
// everything.
type Filter struct {
	Stage  string // e.g. proto.StageTransformer
	Reason string // e.g. "malformed_json"
	// Limit is the most letters List returns or Replay replays; 0 means no
	// limit.
	Limit int
}

// Subject is the DLQ subject filter of f: dlq.<stage>.<reason>, with
// wildcards for empty fields. Stage and reason go through proto.Token as
// the publishers' do, so "Transformer" finds dlq.transformer.>.
func (f Filter) Subject() string {
	if f.Stage == "" && f.Reason == "" {
		return proto.SubjectsDLQ
	}
	stage, reason := "*", "*"
	if f.Stage != "" {
		stage = proto.Token(f.Stage)
	}
	if f.Reason != "" {
		reason = proto.Token(f.Reason)
	}
	return "dlq." + stage + "." + reason
}

func (f Filter) validate() error {
	if f.Limit < 0 {
		return fmt.Errorf("limit %d must not be negative (0 means no limit)", f.Limit)
	}
	return nil
}

// splitSubject returns the stage and reason of a DLQ subject.
func splitSubject(subject string) (stage, reason string, ok bool) {
	parts := strings.Split(subject, ".")
	if len(parts) != 3 || parts[0] != "dlq" {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// Matches reports whether a letter of stage and reason (as they appear in
// DLQ subjects and in Counts) is one f selects.
func (f Filter) Matches(stage, reason string) bool {
	return (f.Stage == "" || proto.Token(f.Stage) == stage) && (f.Reason == "" || proto.Token(f.Reason) == reason)
}
