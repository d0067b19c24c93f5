package dlq_test

import (
	"strings"
	"testing"

	"github.com/tajo-sync/tajo/pkg/dlq"
	"github.com/tajo-sync/tajo/proto"
)

func TestRender(t *testing.T) {
	raw, err := proto.Encode(&proto.RawUser{V: 1, RunID: "r1", BrazeID: "b1", ExportedAt: 42, Line: []byte(`{"braze_id":"b1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	up, err := proto.Encode(&proto.ContactUpsert{V: 1, Key: "k", Attributes: map[string]any{"FIRSTNAME": "Ana"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, subject string
		data          []byte
		format        string
		contains      []string
	}{
		{"raw user", proto.SubjectRawBrazeUsers, raw, "msgpack proto.RawUser",
			[]string{`"BrazeID": "b1"`, `"ExportedAt": 42`, `"Line": {`, `"braze_id": "b1"`}},
		{"contact upsert", proto.SubjectOpsBrevoContactsUpsert, up, "msgpack proto.ContactUpsert",
			[]string{`"Key": "k"`, `"FIRSTNAME": "Ana"`}},
		{"export line on a msgpack subject", proto.SubjectRawBrazeUsers, []byte(`{"braze_id":1`), "text",
			[]string{`{"braze_id":1`}},
		{"json", "raw.other", []byte(`{"a":1}`), "json", []string{`{"a":1}`}},
		{"binary", "raw.other", []byte{0, 1, 0xff}, "hex", []string{"00 01 ff"}},
		{"msgpack of an unknown subject", "raw.other", raw, "hex", []string{"|"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			format, text := dlq.Render(tc.subject, tc.data)
			if format != tc.format {
				t.Fatalf("format %q, want %q; text:\n%s", format, tc.format, text)
			}
			for _, c := range tc.contains {
				if !strings.Contains(text, c) {
					t.Errorf("text lacks %q:\n%s", c, text)
				}
			}
		})
	}
}
