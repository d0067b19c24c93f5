package extractor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/state"
	"github.com/tajo-sync/tajo/proto"
)

// target is one segment to mirror and its list.
type target struct {
	SegmentID, Name string
	ListID          int64
	Created         bool // the list was created by MirrorAll
}

// targets resolves what to mirror: the segments the config maps to lists
// (by id, or by a name only one segment has) and, with MirrorAll, every
// other segment, into the list recorded for it or one created now. A
// configured segment that cannot be resolved is reported in problems and
// left out; two segments are never mirrored into one list (each would
// remove the other's members).
func (m *Mirror) targets(ctx context.Context) (out []target, problems []string, err error) {
	var segs []braze.Segment
	err = m.cfg.Retry.Do(ctx, func(ctx context.Context) (err error) {
		segs, err = m.braze.Segments(ctx)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("listing Braze segments: %w", err)
	}
	byID := map[string]braze.Segment{}
	byName := map[string][]braze.Segment{}
	for _, s := range segs {
		byID[s.ID] = s
		byName[s.Name] = append(byName[s.Name], s)
	}
	keys := make([]string, 0, len(m.cfg.Lists))
	for k := range m.cfg.Lists {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	chosen := map[string]target{}
	for _, key := range keys {
		list := m.cfg.Lists[key]
		seg, ok := byID[key]
		if !ok {
			switch named := byName[key]; len(named) {
			case 0:
				problems = append(problems, fmt.Sprintf("lists.%s: no Braze segment has this id or name (archived segments are not mirrored)", key))
				continue
			case 1:
				seg = named[0]
			default:
				problems = append(problems, fmt.Sprintf("lists.%s: %d Braze segments have this name (ids %s, %s, ...): use the id", key, len(named), named[0].ID, named[1].ID))
				continue
			}
		}
		if prev, ok := chosen[seg.ID]; ok && prev.ListID != list {
			problems = append(problems, fmt.Sprintf("lists.%s: segment %s is also mapped to list %d; map it once", key, seg.ID, prev.ListID))
			continue
		}
		chosen[seg.ID] = target{SegmentID: seg.ID, Name: seg.Name, ListID: list}
	}
	if m.cfg.MirrorAll {
		if err := m.createLists(ctx, segs, chosen); err != nil {
			return nil, problems, err
		}
	}
	byList := map[int64][]string{}
	for id, t := range chosen {
		byList[t.ListID] = append(byList[t.ListID], id)
	}
	for id, t := range chosen {
		if others := byList[t.ListID]; len(others) > 1 {
			sort.Strings(others)
			problems = append(problems, fmt.Sprintf("list %d would mirror %d segments (%s): a list mirrors one segment; segment %s is not mirrored",
				t.ListID, len(others), strings.Join(others, ", "), id))
			continue
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SegmentID < out[j].SegmentID })
	sort.Strings(problems)
	return out, problems, nil
}

// createLists gives every segment not in chosen a list: the one recorded
// for it, else one created now in the configured folder (or an existing
// list of the folder with the segment's name, left by a mirror that died
// before recording it), recorded before it is used.
func (m *Mirror) createLists(ctx context.Context, segs []braze.Segment, chosen map[string]target) error {
	var folderID int64
	var existing map[string]int64 // list name -> id, in the folder
	for _, seg := range segs {
		if _, ok := chosen[seg.ID]; ok {
			continue
		}
		ms, err := m.mirrorState(ctx, seg.ID)
		if err != nil {
			return err
		}
		if ms.ListID != 0 && ms.ListCreated {
			chosen[seg.ID] = target{SegmentID: seg.ID, Name: seg.Name, ListID: ms.ListID, Created: true}
			continue
		}
		if folderID == 0 {
			if folderID, existing, err = m.folder(ctx); err != nil {
				return err
			}
		}
		id, ok := existing[seg.Name]
		if !ok {
			if id, err = m.lists.CreateList(ctx, seg.Name, folderID); err != nil {
				return fmt.Errorf("creating the Brevo list of segment %s (%s): %w", seg.ID, seg.Name, err)
			}
			existing[seg.Name] = id
			m.log.Info("created a Brevo list for a segment", "segment", seg.ID, "name", seg.Name, "list", id, "folder", folderID)
		}
		ms.SegmentID, ms.Name, ms.ListID, ms.ListCreated = seg.ID, seg.Name, id, true
		if err := m.putMirrorState(ctx, ms); err != nil {
			return err
		}
		chosen[seg.ID] = target{SegmentID: seg.ID, Name: seg.Name, ListID: id, Created: true}
	}
	return nil
}

// folder finds (or creates) the configured folder and reads its lists.
func (m *Mirror) folder(ctx context.Context) (int64, map[string]int64, error) {
	folders, err := m.lists.Folders(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("finding the Brevo folder %q: %w", m.cfg.Folder, err)
	}
	var id int64
	for _, f := range folders {
		if f.Name == m.cfg.Folder {
			id = f.ID
			break
		}
	}
	if id == 0 {
		if id, err = m.lists.CreateFolder(ctx, m.cfg.Folder); err != nil {
			return 0, nil, fmt.Errorf("creating the Brevo folder %q: %w", m.cfg.Folder, err)
		}
	}
	lists, err := m.lists.Lists(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("reading the Brevo lists: %w", err)
	}
	existing := map[string]int64{}
	for _, l := range lists {
		if _, dup := existing[l.Name]; l.FolderID == id && !dup {
			existing[l.Name] = l.ID // the oldest of a name
		}
	}
	return id, existing, nil
}

// mirrorState reads what is recorded of a segment (empty when nothing).
func (m *Mirror) mirrorState(ctx context.Context, segmentID string) (*proto.SegmentMirror, error) {
	e, err := m.st.KeyValue().Get(ctx, proto.SegmentMirrorKey(segmentID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return &proto.SegmentMirror{V: proto.SchemaVersion, SegmentID: segmentID}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the mirror state of segment %s: %w", segmentID, err)
	}
	var ms proto.SegmentMirror
	if err := proto.Decode(e.Value(), &ms); err != nil {
		return nil, fmt.Errorf("reading the mirror state of segment %s: %w", segmentID, err)
	}
	return &ms, nil
}

func (m *Mirror) putMirrorState(ctx context.Context, ms *proto.SegmentMirror) error {
	ms.V = proto.SchemaVersion
	b, err := proto.Encode(ms)
	if err == nil {
		_, err = m.st.KeyValue().Put(ctx, proto.SegmentMirrorKey(ms.SegmentID), b)
	}
	if err != nil {
		return fmt.Errorf("recording the mirror state of segment %s: %w", ms.SegmentID, err)
	}
	return nil
}

// SegmentMirrors reads what is recorded of every mirrored segment, by
// segment id order.
func SegmentMirrors(ctx context.Context, kv jetstream.KeyValue) ([]proto.SegmentMirror, error) {
	return state.SegmentMirrors(ctx, kv)
}
