package proto

// The Brevo → Braze direction of a two-way sync: Brevo contact changes
// (polled with modifiedSince, or pushed by Brevo's marketing webhooks)
// travel raw.brevo.* → the transformer's reverse worker → ops.braze.* →
// the loader's Braze writer.
const (
	// SubjectRawBrevoContacts carries RawContact: one contact as a poll of
	// GET /contacts?modifiedSince read it.
	SubjectRawBrevoContacts = "raw.brevo.contacts"
	// SubjectRawBrevoWebhooks carries RawEvent (Source
	// EventSourceBrevoWebhook): one webhook event as the gateway received it.
	SubjectRawBrevoWebhooks = "raw.brevo.webhooks"
	// SubjectsRawBrevo is what the reverse worker consumes.
	SubjectsRawBrevo = "raw.brevo.>"

	// SubjectOpsBrazeUsersTrack carries BrazeUserUpdate (POST /users/track).
	SubjectOpsBrazeUsersTrack = "ops.braze.users.track"
	// SubjectOpsBrazeEmailStatus carries BrazeEmailStatus (POST
	// /email/status, and /subscription/status/set with a group).
	SubjectOpsBrazeEmailStatus = "ops.braze.email.status"
	// SubjectOpsBrazeUsersDelete carries BrazeUserDelete (POST /users/delete).
	SubjectOpsBrazeUsersDelete = "ops.braze.users.delete"
	// SubjectsOpsBraze is what the loader's Braze writer consumes.
	SubjectsOpsBraze = "ops.braze.>"

	// BucketTwoWay holds, per contact key, what the two sides were last
	// known to agree on (pkg/twoway): sharded, as tajo_fingerprints.
	BucketTwoWay = "tajo_twoway"

	// EventSourceBrevoWebhook is the RawEvent source of POST /v1/brevo/webhooks.
	EventSourceBrevoWebhook = "brevo_webhook"
)

// RawContact is one Brevo contact as a poll read it. JSON is the contact
// object exactly as GET /contacts returned it.
type RawContact struct {
	V          int    `msgpack:"v"`
	ID         int64  `msgpack:"id"`
	ModifiedAt int64  `msgpack:"mod"`  // unix ms: the contact's version
	PolledAt   int64  `msgpack:"poll"` // unix ms the poll started
	JSON       []byte `msgpack:"json"`
}

func (m *RawContact) Schema() int { return m.V }

// BrazeUserUpdate asks the loader to write attributes to one Braze user
// with POST /users/track. The user is named by ExternalID, else BrazeID,
// else by the alias (AliasName, AliasLabel), which creates an alias-only
// user when none has it.
type BrazeUserUpdate struct {
	V          int    `msgpack:"v"`
	Key        string `msgpack:"key"` // the two-way state's key of the contact
	ExternalID string `msgpack:"ext,omitempty"`
	BrazeID    string `msgpack:"bid,omitempty"` // users without an external id
	AliasName  string `msgpack:"an,omitempty"`
	AliasLabel string `msgpack:"al,omitempty"`
	// Attributes are Braze fields (standard or custom) to their new value
	// in Braze's formats; nil unsets. Only what changed is here.
	Attributes map[string]any `msgpack:"attrs"`
	// Hashes are, per two-way field (its Brevo attribute name), the hash of
	// the value written: the loader records them as what Braze holds once
	// the write succeeded.
	Hashes map[string]uint64 `msgpack:"h,omitempty"`
	// Check is, per field (Brevo name) whose Braze change must win
	// (braze_wins), the hash of the value Braze is expected to hold: the
	// loader reads the user first and does not write a field Braze changed.
	Check map[string]uint64 `msgpack:"chk,omitempty"`
	// SourceVersion is the Brevo modifiedAt (unix ms) of the change: an
	// update older than one already written for the key is not sent.
	SourceVersion int64 `msgpack:"sv"`
}

func (m *BrazeUserUpdate) Schema() int { return m.V }

// BrazeEmailStatus asks the loader to set an email address's subscription
// state in Braze (POST /email/status), and in the subscription group when
// GroupID is set (POST /subscription/status/set).
type BrazeEmailStatus struct {
	V             int    `msgpack:"v"`
	Email         string `msgpack:"email"`
	State         string `msgpack:"state"` // subscribed | unsubscribed | opted_in
	GroupID       string `msgpack:"group,omitempty"`
	SourceVersion int64  `msgpack:"sv"` // unix ms of the Brevo change
}

func (m *BrazeEmailStatus) Schema() int { return m.V }

// BrazeUserDelete asks the loader to delete a Braze user (propagate_deletes).
type BrazeUserDelete struct {
	V          int    `msgpack:"v"`
	Key        string `msgpack:"key"`
	ExternalID string `msgpack:"ext,omitempty"`
	BrazeID    string `msgpack:"bid,omitempty"`
	AliasName  string `msgpack:"an,omitempty"`
	AliasLabel string `msgpack:"al,omitempty"`
}

func (m *BrazeUserDelete) Schema() int { return m.V }
