package extractor

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/pkg/state"
)

// segmentsOnly is a Braze workspace with these segments and nothing else
// the targets need.
type segmentsOnly []braze.Segment

func (s segmentsOnly) Segments(context.Context) ([]braze.Segment, error) { return s, nil }
func (segmentsOnly) ExportSegment(context.Context, braze.ExportSegmentRequest) (braze.ExportSegmentResult, error) {
	return braze.ExportSegmentResult{}, errors.New("not in this test")
}
func (segmentsOnly) WaitExport(context.Context, string, func() (io.WriteCloser, error), braze.Backoff) (int64, error) {
	return 0, errors.New("not in this test")
}

// account is a Brevo account's folders and lists, numbered as Brevo does.
type account struct {
	folders []brevo.Folder
	lists   []brevo.List
	created []string // lists created, by name
}

func (a *account) Folders(context.Context) ([]brevo.Folder, error) { return a.folders, nil }
func (a *account) Lists(context.Context) ([]brevo.List, error)     { return a.lists, nil }
func (a *account) CreateFolder(_ context.Context, name string) (int64, error) {
	id := int64(len(a.folders) + 1)
	a.folders = append(a.folders, brevo.Folder{ID: id, Name: name})
	return id, nil
}
func (a *account) CreateList(_ context.Context, name string, folder int64) (int64, error) {
	id := int64(len(a.lists) + 2)
	a.lists = append(a.lists, brevo.List{ID: id, Name: name, FolderID: folder})
	a.created = append(a.created, name)
	return id, nil
}

func identity([]byte) (string, string, string, error) { return "", "", "", nil }

func newTestMirror(t *testing.T, bz SegmentsBraze, lists ListMaker, cfg MirrorConfig) *Mirror {
	t.Helper()
	ctx, js, st := startStore(t, 10*time.Second)
	cfg.Identity, cfg.IdentityFields = identity, []string{"braze_id"}
	cfg.Logger = slog.New(slog.DiscardHandler)
	m, err := NewMirror(ctx, js, bz, lists, st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSegmentTargets(t *testing.T) {
	ws := segmentsOnly{{ID: "s-1", Name: "VIP"}, {ID: "s-2", Name: "Lapsed"}, {ID: "s-3", Name: "Twin"}, {ID: "s-4", Name: "Twin"},
		{ID: "s-5", Name: "Five"}, {ID: "s-6", Name: "Six"}}
	m := newTestMirror(t, ws, nil, MirrorConfig{Lists: map[string]int64{
		"s-1": 10, "Lapsed": 11, // by id and by name
		"Twin":    12,            // two segments have that name
		"nothing": 13,            // no segment
		"s-5":     14, "Six": 14, // one list, two segments
	}})
	got, problems, err := m.targets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []target{{SegmentID: "s-1", Name: "VIP", ListID: 10}, {SegmentID: "s-2", Name: "Lapsed", ListID: 11}}
	if !slices.Equal(got, want) {
		t.Errorf("targets %+v, want %+v", got, want)
	}
	for _, p := range []string{"lists.Twin: 2 Braze segments have this name", "lists.nothing: no Braze segment",
		"list 14 would mirror 2 segments (s-5, s-6)"} {
		if !slices.ContainsFunc(problems, func(s string) bool { return strings.Contains(s, p) }) {
			t.Errorf("no problem saying %q in %q", p, problems)
		}
	}
}

func TestMirrorAllCreatesListsOnce(t *testing.T) {
	ws := segmentsOnly{{ID: "s-1", Name: "VIP"}, {ID: "s-2", Name: "Lapsed"}, {ID: "s-3", Name: "Loyal"}}
	acct := &account{folders: []brevo.Folder{{ID: 1, Name: "Your first folder"}},
		lists: []brevo.List{{ID: 2, Name: "Your first list", FolderID: 1}}}
	// A list of the segment's name already in the folder (a mirror that
	// died before recording it) is adopted, not made twice.
	folder, _ := acct.CreateFolder(context.Background(), "Mirrors")
	loyal, _ := acct.CreateList(context.Background(), "Loyal", folder)
	acct.created = nil
	m := newTestMirror(t, ws, acct, MirrorConfig{Lists: map[string]int64{"VIP": 2}, MirrorAll: true, Folder: "Mirrors"})

	got, problems, err := m.targets(context.Background())
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	if len(got) != 3 || got[0] != (target{SegmentID: "s-1", Name: "VIP", ListID: 2}) ||
		got[1].SegmentID != "s-2" || !got[1].Created || got[2] != (target{SegmentID: "s-3", Name: "Loyal", ListID: loyal, Created: true}) {
		t.Fatalf("targets %+v", got)
	}
	if !slices.Equal(acct.created, []string{"Lapsed"}) || acct.lists[len(acct.lists)-1].FolderID != folder {
		t.Fatalf("lists created %v in %+v", acct.created, acct.lists)
	}
	ms, err := m.mirrorState(context.Background(), "s-2")
	if err != nil || ms.ListID != got[1].ListID || !ms.ListCreated {
		t.Fatalf("the mapping is not recorded: %+v %v", ms, err)
	}
	// Recorded: a second run creates nothing.
	again, _, err := m.targets(context.Background())
	if err != nil || !slices.Equal(again, got) || len(acct.created) != 1 {
		t.Fatalf("second resolution %+v (created %v, %v)", again, acct.created, err)
	}
}

func TestNewMirrorRefuses(t *testing.T) {
	_, _, js := natsxtest.Start(t)
	ctx := context.Background()
	st, err := state.NewStore(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	ok := MirrorConfig{Identity: identity, IdentityFields: []string{"braze_id"}, Lists: map[string]int64{"a": 1}}
	for _, tc := range []struct {
		name  string
		cfg   func(MirrorConfig) MirrorConfig
		lists ListMaker
		want  string
	}{
		{"nothing to mirror", func(c MirrorConfig) MirrorConfig { c.Lists = nil; return c }, nil, "no segment to mirror"},
		{"mirror_all without Brevo", func(c MirrorConfig) MirrorConfig { c.MirrorAll = true; return c }, nil, "a Brevo client is required"},
		{"no identity", func(c MirrorConfig) MirrorConfig { c.Identity = nil; return c }, nil, "Identity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewMirror(ctx, js, segmentsOnly{}, tc.lists, st, tc.cfg(ok)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
