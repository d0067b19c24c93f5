package proto

// SchemaVersion is the version of every payload defined here. Bump it when a
// change is not backward compatible, and teach Decode the old shape.
const SchemaVersion = 1

// Versioned is implemented by every payload.
type Versioned interface{ Schema() int }

// RawUser is one line of a Braze segment export, as read. The transformer
// parses Line; the extractor only checks it is a JSON object with a braze_id.
type RawUser struct {
	V          int    `msgpack:"v"`
	RunID      string `msgpack:"run"`
	BrazeID    string `msgpack:"bid"`
	ExportedAt int64  `msgpack:"at"` // unix ms when the export was requested: the source version
	Line       []byte `msgpack:"line"`
}

func (m *RawUser) Schema() int { return m.V }

// Op kinds of a contact write: the loader alone decides which, from what it
// recorded as applied (a ContactUpsert carries no Op: older messages that
// do have an "op" field decode with it ignored).
const (
	OpCreate = "create" // the connector never wrote this key before
	OpUpdate = "update" // the key was written before with other content
)

// ContactUpsert asks the loader to make a Brevo contact hold these attributes.
// Attribute values are string, float64, bool or nil (date attributes travel
// as "YYYY-MM-DD" strings).
type ContactUpsert struct {
	V             int            `msgpack:"v"`
	RunID         string         `msgpack:"run"`
	Key           string         `msgpack:"key"` // ext_id, or email when there is no external id
	BrazeID       string         `msgpack:"bid"`
	ExtID         string         `msgpack:"ext,omitempty"`
	Email         string         `msgpack:"email,omitempty"`
	Attributes    map[string]any `msgpack:"attrs"`
	SourceVersion int64          `msgpack:"sv"` // unix ms of the source record's version
	Fingerprint   string         `msgpack:"fp"`
	// LeftOff are the identifiers the mapping left off the contact (an
	// invalid email). The loader records each as the transformer's side
	// letter when it writes the contact, and not when the contact is
	// unchanged since an earlier run, which recorded it then.
	LeftOff []LeftOff `msgpack:"lo,omitempty"`
}

func (m *ContactUpsert) Schema() int { return m.V }

// LeftOff is an identifier left off a contact: the reason (the DLQ
// subject's last token) and what to tell the operator.
type LeftOff struct {
	Reason string `msgpack:"r"`
	Detail string `msgpack:"d"`
}

// DeadLetter is what lands on dlq.<stage>.<reason>: the original message with
// the reason it could not be handled.
type DeadLetter struct {
	V               int                 `msgpack:"v"`
	Stage           string              `msgpack:"stage"`
	Reason          string              `msgpack:"reason"` // short, machine-readable: malformed_json, no_identifier, ...
	Detail          string              `msgpack:"detail"` // human-readable, with the vendor's error when there is one
	OriginalSubject string              `msgpack:"subj"`
	Headers         map[string][]string `msgpack:"hdr,omitempty"`
	Data            []byte              `msgpack:"data"`
	Attempts        uint64              `msgpack:"attempts"`
	RunID           string              `msgpack:"run,omitempty"`
	FailedAt        int64               `msgpack:"at"` // unix ms
}

func (m *DeadLetter) Schema() int { return m.V }

// Run states.
const (
	RunRunning   = "running"
	RunExported  = "exported" // the extractor published everything
	RunCompleted = "completed"
	// RunIncomplete: every stage drained, but some exported lines were
	// settled by none (the run's ledger says which): something lost them.
	RunIncomplete = "incomplete"
	RunFailed     = "failed"
)

// SyncRun is the record of one sync of one resource, kept in BucketState
// under RunKey(id). The extractor writes it; what became of each of its
// lines is in the run's ledger (BucketLedger).
type SyncRun struct {
	V          int    `msgpack:"v"`
	ID         string `msgpack:"id"`
	Resource   string `msgpack:"res"`
	Type       string `msgpack:"type"` // full | incremental
	Status     string `msgpack:"status"`
	Error      string `msgpack:"err,omitempty"`
	StartedAt  int64  `msgpack:"started"`
	ExportedAt int64  `msgpack:"exported_at"` // unix ms the export was requested
	FinishedAt int64  `msgpack:"finished,omitempty"`
	Exported   int64  `msgpack:"exported"`  // lines published to RAW
	Malformed  int64  `msgpack:"malformed"` // lines dead-lettered by the extractor
	// ExportURL is where the run's export is served once ready, kept so an
	// extractor resuming the run downloads the same export instead of
	// asking for another (Braze refuses a second export of a segment while
	// one is running). It grants access to the export: internal state only.
	ExportURL string `msgpack:"export_url,omitempty"`
	// Base is the run before this one: an incremental run skips the lines
	// its export holds unchanged since Base's, which Base wrote.
	Base string `msgpack:"base,omitempty"`
	// Skipped counts the exported lines unchanged since Base's export,
	// settled as unchanged without being published (part of Exported).
	Skipped int64 `msgpack:"skipped,omitempty"`
	// Outcome is what became of the run's lines, counted from its ledger
	// when the run finished (nil before).
	Outcome *RunOutcome `msgpack:"outcome,omitempty"`
}

// RunOutcome counts what became of a finished run's exported lines: each
// line is in exactly one of the first seven figures.
type RunOutcome struct {
	Created      int64 `msgpack:"created"`
	Updated      int64 `msgpack:"updated"`
	Unchanged    int64 `msgpack:"unchanged"`
	Merged       int64 `msgpack:"merged"`
	Stale        int64 `msgpack:"stale"`
	DeadLettered int64 `msgpack:"dead"`
	Missing      int64 `msgpack:"missing"`
	WithoutEmail int64 `msgpack:"no_email"`
	WithoutSMS   int64 `msgpack:"no_sms"`
	Refused      int64 `msgpack:"refused"`
	// Deleted counts lines that marked an item deleted at the vendor (a
	// catalog item Braze no longer lists); they are in none of the others.
	Deleted int64 `msgpack:"deleted,omitempty"`
}

func (m *SyncRun) Schema() int { return m.V }

// RunKey is the BucketState key of a run.
func RunKey(id string) string { return "run." + id }

// LastRunKey is the BucketState key naming the latest run of a resource.
func LastRunKey(resource string) string { return "lastrun." + Token(resource) }

// SyncRequest asks for a sync run (JSON, on SubjectSyncRequest).
type SyncRequest struct {
	Type string `json:"type"` // full | incremental
}

// SyncReply answers a SyncRequest.
type SyncReply struct {
	RunID string `json:"run_id,omitempty"`
	Busy  bool   `json:"busy,omitempty"`
	Error string `json:"error,omitempty"`
}

// Health is one process's view of its vendor calls, kept in BucketState
// under HealthKey so `tajo connectors status` and the chaos report can read
// what every worker sees: its circuit breakers, their transitions, the 429s
// it received and the retries it made.
type Health struct {
	V           int               `msgpack:"v"`
	Service     string            `msgpack:"service"`
	Instance    string            `msgpack:"instance"`
	At          int64             `msgpack:"at"`          // unix ms of this snapshot
	Breakers    map[string]string `msgpack:"breakers"`    // "vendor/bucket" -> closed | half-open | open
	Transitions map[string]int64  `msgpack:"transitions"` // "vendor/bucket from->to" -> count
	Throttled   int64             `msgpack:"throttled"`   // 429 answers received
	Retries     int64             `msgpack:"retries"`     // calls retried by the transport
}

func (m *Health) Schema() int { return m.V }

// HealthKey is the BucketState key of a process's health.
func HealthKey(service, instance string) string {
	return "health." + Token(service) + "." + Token(instance)
}
