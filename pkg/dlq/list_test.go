package dlq_test

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/tajo-sync/tajo/pkg/dlq"
	"github.com/tajo-sync/tajo/proto"
)

// mixed is six letters of three stage/reason pairs, interleaved.
var mixed = []letter{
	{stage: "transformer", reason: "malformed_json", data: "a"},
	{stage: "loader", reason: "contact_too_large", data: "b", subject: proto.SubjectOpsBrevoContactsUpsert},
	{stage: "transformer", reason: "malformed_json", data: "c"},
	{stage: "transformer", reason: "bad_payload", data: "d"},
	{stage: "loader", reason: "contact_too_large", data: "e", subject: proto.SubjectOpsBrevoContactsUpsert},
	{stage: "transformer", reason: "malformed_json", data: "f"},
}

func datas(items []dlq.Item) string {
	out := ""
	for _, it := range items {
		if it.Err != nil {
			out += "!"
		}
		out += string(it.Letter.Data)
	}
	return out
}

func TestListFiltersAndLimits(t *testing.T) {
	ctx, js := start(t)
	publish(t, ctx, js, mixed...)

	for _, tc := range []struct {
		name string
		f    dlq.Filter
		want string
	}{
		{"all", dlq.Filter{}, "abcdef"},
		{"stage", dlq.Filter{Stage: "transformer"}, "acdf"},
		{"stage is a token", dlq.Filter{Stage: "Transformer"}, "acdf"},
		{"reason", dlq.Filter{Reason: "contact_too_large"}, "be"},
		{"stage and reason", dlq.Filter{Stage: "transformer", Reason: "malformed_json"}, "acf"},
		{"limit", dlq.Filter{Limit: 2}, "ab"},
		{"limit over filter", dlq.Filter{Stage: "transformer", Limit: 3}, "acd"},
		{"limit above count", dlq.Filter{Reason: "bad_payload", Limit: 10}, "d"},
		{"no match", dlq.Filter{Stage: "extractor"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items, err := dlq.List(ctx, js, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := datas(items); got != tc.want {
				t.Fatalf("List(%+v) = %q, want %q", tc.f, got, tc.want)
			}
			for i := 1; i < len(items); i++ {
				if items[i].ID <= items[i-1].ID {
					t.Fatalf("ids not ascending: %d then %d", items[i-1].ID, items[i].ID)
				}
			}
		})
	}

	if _, err := dlq.List(ctx, js, dlq.Filter{Limit: -1}); err == nil {
		t.Fatal("want an error for a negative limit")
	}
}

func TestListReadsAllLettersAcrossFetches(t *testing.T) {
	ctx, js := start(t)
	const n = 250 // more than one fetch batch
	ls := make([]letter, n)
	for i := range ls {
		ls[i] = letter{stage: "transformer", reason: "malformed_json", data: fmt.Sprintf("line-%03d", i)}
	}
	publish(t, ctx, js, ls...)
	for limit, want := range map[int]int{0: n, 150: 150, n: n} {
		items, err := dlq.List(ctx, js, dlq.Filter{Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != want {
			t.Fatalf("limit %d: %d items, want %d", limit, len(items), want)
		}
		if last := string(items[len(items)-1].Letter.Data); last != fmt.Sprintf("line-%03d", want-1) {
			t.Fatalf("limit %d: last item %q", limit, last)
		}
	}
}

func TestGetReturnsTheLetter(t *testing.T) {
	ctx, js := start(t)
	publish(t, ctx, js, mixed[:2]...)
	items, err := dlq.List(ctx, js, dlq.Filter{})
	if err != nil || len(items) != 2 {
		t.Fatalf("list: %d items, %v", len(items), err)
	}
	got, err := dlq.Get(ctx, js, items[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	dl := got.Letter
	if got.Subject != "dlq.loader.contact_too_large" || dl.Stage != "loader" || dl.Reason != "contact_too_large" ||
		dl.OriginalSubject != proto.SubjectOpsBrevoContactsUpsert || string(dl.Data) != "b" || dl.RunID != "run-1" ||
		dl.Detail != "detail of b" || dl.Attempts != 1 || got.Time.IsZero() {
		t.Fatalf("Get = %+v", got)
	}
	if h := dl.Headers["X-Test"]; !reflect.DeepEqual(h, []string{"1"}) {
		t.Fatalf("original headers not kept: %v", dl.Headers)
	}

	if _, err := dlq.Get(ctx, js, items[1].ID+100); !errors.Is(err, dlq.ErrNotFound) {
		t.Fatalf("Get of a missing id: %v, want ErrNotFound", err)
	}
}

func TestListShowsUndecodableLetters(t *testing.T) {
	ctx, js := start(t)
	publish(t, ctx, js, mixed[0])
	if _, err := js.Publish(ctx, "dlq.loader.weird", []byte("not msgpack")); err != nil {
		t.Fatal(err)
	}
	items, err := dlq.List(ctx, js, dlq.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Err != nil || items[1].Err == nil {
		t.Fatalf("items: %+v", items)
	}
	if l := items[1].Letter; l.Stage != "loader" || l.Reason != "weird" {
		t.Fatalf("undecodable letter keeps stage and reason of its subject: %+v", l)
	}
}

func TestCounts(t *testing.T) {
	ctx, js := start(t)
	got, err := dlq.Counts(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("empty DLQ counts %v", got)
	}
	publish(t, ctx, js, mixed...)
	got, err = dlq.Counts(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]uint64{
		"transformer": {"malformed_json": 3, "bad_payload": 1},
		"loader":      {"contact_too_large": 2},
	}
	if !maps.EqualFunc(got, want, maps.Equal) {
		t.Fatalf("Counts = %v, want %v", got, want)
	}
}

func TestNoDLQStreamSaysWhatToDo(t *testing.T) {
	ctx, js := start(t)
	if err := js.DeleteStream(ctx, proto.StreamDLQ); err != nil {
		t.Fatal(err)
	}
	_, err := dlq.List(ctx, js, dlq.Filter{})
	if err == nil || !strings.Contains(err.Error(), "tajo run") {
		t.Fatalf("List without a DLQ stream: %v", err)
	}
}

func TestFilterMatchesWhatSubjectSelects(t *testing.T) {
	for _, tc := range []struct {
		f             dlq.Filter
		stage, reason string
		want          bool
	}{
		{dlq.Filter{}, "loader", "x", true},
		{dlq.Filter{Stage: "Loader"}, "loader", "x", true},
		{dlq.Filter{Stage: "loader"}, "transformer", "x", false},
		{dlq.Filter{Reason: "bad payload"}, "loader", "bad_payload", true},
		{dlq.Filter{Stage: "loader", Reason: "y"}, "loader", "x", false},
	} {
		if got := tc.f.Matches(tc.stage, tc.reason); got != tc.want {
			t.Errorf("%+v.Matches(%s, %s) = %v, want %v", tc.f, tc.stage, tc.reason, got, tc.want)
		}
	}
}
