package proto

// Segment mirroring: each mirrored Braze segment's membership is compared
// with the last one and the difference travels as one message per member
// that joined or left: raw.braze.segments (SegmentChange, from the
// extractor) -> transformer -> ops.brevo.lists.add|remove (ListChange) ->
// loader, which adds and removes contacts 150 per Brevo call.
const (
	// ResourceSegments names the segment mirroring's runs (SyncRun.Resource).
	ResourceSegments = "segments"

	SubjectRawBrazeSegments    = "raw.braze.segments"
	SubjectOpsBrevoListsAdd    = "ops.brevo.lists.add"
	SubjectOpsBrevoListsRemove = "ops.brevo.lists.remove"
	// SubjectsOpsBrevoLists is the loader's filter: both operations in one
	// consumer, so the batches of one run are cut from one ordered stream.
	SubjectsOpsBrevoLists = "ops.brevo.lists.>"

	// SubjectSegmentsSyncRequest asks the extractor to mirror the segments
	// now: SyncRequest in, SyncReply out.
	SubjectSegmentsSyncRequest = "tajo.ctl.sync.segments"

	// BucketSegmentsLedger holds what became of each change of a segments
	// run (pkg/ledger). It is apart from BucketLedger, which the users
	// extractor prunes down to its own last two runs.
	BucketSegmentsLedger = "tajo_segments_ledger"
	// ObjectStoreSegments holds each mirrored segment's last membership, a
	// sorted file of (braze_id, identifier) lines (pkg/membership).
	ObjectStoreSegments = "tajo_segments"
)

// List operations.
const (
	ListAdd    = "add"
	ListRemove = "remove"
)

// SegmentChange is one member who joined (Op ListAdd) or left (ListRemove)
// a mirrored segment since the segment's last run. Member is the Brevo
// identifier the extractor resolved: "x:<ext_id>" or "e:<email>".
type SegmentChange struct {
	V         int    `msgpack:"v"`
	RunID     string `msgpack:"run"`
	SegmentID string `msgpack:"seg"`
	ListID    int64  `msgpack:"list"`
	Op        string `msgpack:"op"`
	BrazeID   string `msgpack:"bid"`
	Member    string `msgpack:"member"`
}

func (m *SegmentChange) Schema() int { return m.V }

// ListChange asks the loader to add a contact to a Brevo list or remove it,
// naming it by ext_id or, lacking one, by email (exactly one is set).
type ListChange struct {
	V         int    `msgpack:"v"`
	RunID     string `msgpack:"run"`
	SegmentID string `msgpack:"seg"`
	ListID    int64  `msgpack:"list"`
	Op        string `msgpack:"op"`
	BrazeID   string `msgpack:"bid"`
	ExtID     string `msgpack:"ext,omitempty"`
	Email     string `msgpack:"email,omitempty"`
}

func (m *ListChange) Schema() int { return m.V }

// SegmentMirror is what the connector knows of one mirrored segment, kept
// in BucketState under SegmentMirrorKey: its list, its last membership and
// the run in progress over it.
type SegmentMirror struct {
	V         int    `msgpack:"v"`
	SegmentID string `msgpack:"seg"`
	Name      string `msgpack:"name"`
	ListID    int64  `msgpack:"list"`
	// ListCreated: the list was created by the mirror (mirror_all), which
	// recorded the mapping here.
	ListCreated bool `msgpack:"created,omitempty"`
	// Snapshot names the object (ObjectStoreSegments) holding the
	// membership last published; "" before the first run. Members counts it.
	Snapshot string `msgpack:"snap,omitempty"`
	Members  int64  `msgpack:"members"`
	// The run over this segment in progress (or last): its id, the export
	// it reads (so a resumed run reads the same one), the first ledger line
	// of its changes (so a resumed run numbers them the same) and whether
	// its changes are all published and its membership stored.
	RunID      string `msgpack:"run,omitempty"`
	ExportURL  string `msgpack:"url,omitempty"`
	FirstLine  int64  `msgpack:"first"`
	Lines      int64  `msgpack:"lines"` // lines published by the run (Added + Removed once published)
	Published  bool   `msgpack:"published,omitempty"`
	Added      int64  `msgpack:"added"`
	Removed    int64  `msgpack:"removed"`
	Unresolved int64  `msgpack:"unresolved"` // members with neither ext_id nor a valid email
	Error      string `msgpack:"err,omitempty"`
}

func (m *SegmentMirror) Schema() int { return m.V }

// SegmentMirrorKey is the BucketState key of a mirrored segment.
func SegmentMirrorKey(segmentID string) string { return "segment." + Token(segmentID) }

// SegmentMirrorKeys matches every SegmentMirrorKey.
const SegmentMirrorKeys = "segment.*"
