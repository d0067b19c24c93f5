package proto

import (
	"encoding/binary"
	"strings"
)

// Streams.
const (
	StreamRaw   = "RAW"   // raw.<vendor>.<resource>: what the extractor read
	StreamOps   = "OPS"   // ops.<vendor>.<operation>: what the loader must do
	StreamDLQ   = "DLQ"   // dlq.<stage>.<reason>: what no stage could handle
	StreamAudit = "AUDIT" // audit.<vendor>: one entry per vendor API call
)

// Subjects.
const (
	SubjectRawBrazeUsers          = "raw.braze.users"
	SubjectOpsBrevoContactsUpsert = "ops.brevo.contacts.upsert"
	SubjectsRaw                   = "raw.>"
	SubjectsOps                   = "ops.>"
	SubjectsDLQ                   = "dlq.>"
	SubjectsAudit                 = "audit.>"
)

// Key-value buckets.
const (
	// BucketState holds sync runs, cursors and per-worker run counters.
	BucketState = "tajo_state"
	// BucketFingerprints maps a record key to the hash of its last mapped content.
	BucketFingerprints = "tajo_fingerprints"
	// BucketClaims maps a unique vendor identifier ("email:<address>",
	// "sms:<E.164>") to the record key that owns it, so two source records
	// never merge into one Brevo contact.
	BucketClaims = "tajo_claims"
	// BucketLedger holds, per run, what became of each line of its export
	// (pkg/ledger): the source of every run summary.
	BucketLedger = "tajo_ledger"
	// BucketLines is an object store holding, per run, the (user, line
	// hash) entries of its export in line order (pkg/linediff): the next
	// incremental run skips the lines that have not changed since.
	BucketLines = "tajo_lines"
)

// Headers set on every message.
const (
	HeaderMsgID         = "Nats-Msg-Id"
	HeaderSchema        = "Tajo-Schema"
	HeaderRunID         = "Tajo-Run-Id"
	HeaderSourceVersion = "Tajo-Source-Version"
	HeaderKey           = "Tajo-Key"
	// HeaderPack marks a message that carries several items (pkg/pipeline's
	// packs): its value is how many.
	HeaderPack = "Tajo-Pack"
	// HeaderLine is the position (0-based) of the record's line in its
	// run's export: where every stage records the record's outcome in the
	// run's ledger (pkg/ledger). A resumed export numbers lines the same.
	HeaderLine = "Tajo-Line"
)

// Stages, as they appear in DLQ subjects and counters.
const (
	StageExtractor   = "extractor"
	StageTransformer = "transformer"
	StageLoader      = "loader"
)

// DLQSubject is the subject a dead letter of stage for reason is published on.
// Reason is reduced to a single subject token.
func DLQSubject(stage, reason string) string {
	return "dlq." + Token(stage) + "." + Token(reason)
}

// Token turns s into a valid single NATS subject token: lower case, with
// anything outside [a-z0-9_-] replaced by '_'. Empty input becomes "unknown".
func Token(s string) string {
	if s == "" {
		return "unknown"
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Control subjects (core NATS request/reply, JSON bodies).
const (
	// SubjectSyncRequest asks the extractor to start a users sync:
	// SyncRequest in, SyncReply out.
	SubjectSyncRequest = "tajo.ctl.sync.users"
)

// SubjectBrevoImportDone prefixes the core NATS subject on which the
// gateway relays Brevo's call of an import's notifyUrl:
// ImportDoneSubject(ref), ref being the token the loader put in that URL.
// The body is ImportDone as JSON. Nothing stores it: a loader that was not
// listening polls instead.
const SubjectBrevoImportDone = "tajo.brevo.import.done"

// ImportDoneSubject is the subject of the notification of the import ref.
func ImportDoneSubject(ref string) string { return SubjectBrevoImportDone + "." + ref }

// BrevoNotifyPath is the gateway's route Brevo calls when an import
// finishes: BrevoNotifyPath + "/" + the install's secret SecretBrevoNotify,
// with ?import=<ref>. The loader builds these URLs; the gateway serves them.
const BrevoNotifyPath = "/v1/brevo/imports/done"

// SecretBrevoNotify names the install's secret (state.Store.Secret) in the
// URL Brevo calls when an import finishes.
const SecretBrevoNotify = "brevo.notify"

// ImportDone is what the gateway relays of Brevo's notification.
type ImportDone struct {
	Ref       string `json:"ref"`
	ProcessID int64  `json:"processId,omitempty"` // when Brevo's body names it
}

// ResourceUsers is the users sync's resource (runs, the status).
const ResourceUsers = "users"

// The durable consumers of the users, events and segments pipelines: the
// workers create them, the status reads their backlog.
const (
	DurableTransformerUsers    = "transformer-users"
	DurableLoaderContacts      = "loader-contacts"
	DurableTransformerEvents   = "transformer-events"
	DurableLoaderEvents        = "loader-events"
	DurableTransformerSegments = "transformer-segments"
	DurableLoaderLists         = "loader-lists"
)

// LedgerStages are the stages that mark a run's ledger (users and
// segments runs alike).
var LedgerStages = []string{StageExtractor, StageTransformer, StageLoader}

// EventsProcessedKey is the state bucket's counter of events written to
// Brevo contact timelines: 8 bytes, big-endian (EncodeCount).
const EventsProcessedKey = "counter.events_processed"

// EncodeCount is a counter's value in the state bucket.
func EncodeCount(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// DecodeCount reads a counter's value; anything but 8 bytes reads as 0.
func DecodeCount(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// EmailClaim and SMSClaim are the keys of tajo_claims (BucketClaims): the
// one place their shape is decided, for the loader that claims them and
// the reverse direction that reads them.
func EmailClaim(email string) string { return "email:" + email }

// SMSClaim: see EmailClaim.
func SMSClaim(sms string) string { return "sms:" + sms }
