package status

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
)

// Reader is the status as a server answers it (the gateway's
// GET /v1/connectors/braze/status and its page): Read, with the vendor
// checks made at most once per ConnectionTTL. The page asks every few
// seconds, and each check costs a call of the vendors' budgets.
type Reader struct {
	js    jetstream.JetStream
	where func() string // Status.State: where the state is read
	reads VendorReads

	mu        sync.Mutex
	conn      Connection // the last vendor check, made at checkedAt
	checkedAt time.Time
	checking  bool // a request is making the check
}

// ConnectionTTL is how long a Reader reuses a vendor check.
const ConnectionTTL = 30 * time.Second

// NewReader reads the status from js; where names the state's place
// (the NATS URL, redacted) and reads are the vendor checks.
func NewReader(js jetstream.JetStream, where func() string, reads VendorReads) *Reader {
	return &Reader{js: js, where: where, reads: reads}
}

// Status is Read's Status with the last vendor check.
func (r *Reader) Status(ctx context.Context) (any, error) {
	st, err := Read(ctx, r.js, r.connection(ctx))
	if err != nil {
		return nil, err
	}
	if r.where != nil {
		st.State = r.where()
	}
	return st, nil
}

// connection is the last vendor check, made again once ConnectionTTL old.
// While one request makes it, the others answer with the previous check
// rather than wait for the vendors (the page asks every second).
func (r *Reader) connection(ctx context.Context) Connection {
	r.mu.Lock()
	stale := r.checkedAt.IsZero() || time.Since(r.checkedAt) > ConnectionTTL
	if !stale || r.checking && !r.checkedAt.IsZero() {
		conn := r.conn
		r.mu.Unlock()
		return conn
	}
	r.checking = true
	r.mu.Unlock()
	conn := CheckVendors(ctx, r.reads)
	r.mu.Lock()
	r.conn, r.checkedAt, r.checking = conn, time.Now(), false
	r.mu.Unlock()
	return conn
}

// KeyReads are the vendor checks with clients made from the configured
// keys (bz.APIKey, bv.APIKey, their base URLs): a key that is not set, or
// a client that cannot be configured, is a failed check that says how to
// fix it. The clients' Observer (an audit trail) is kept.
func KeyReads(bz braze.Config, bv brevo.Config) VendorReads {
	const store = " is not set: export it, or store it with `tajo connectors install braze`"
	var r VendorReads
	if bz.APIKey == "" {
		r.BrazeMissing = "BRAZE_API_KEY" + store
	} else if c, err := braze.New(bz); err != nil {
		r.BrazeMissing = "configuring the Braze client (check connectors.braze.instance_url): " + err.Error()
	} else {
		r.Braze = Reads(c, nil).Braze
	}
	if bv.APIKey == "" {
		r.BrevoMissing = "BREVO_API_KEY" + store
	} else if c, err := brevo.New(bv); err != nil {
		r.BrevoMissing = "configuring the Brevo client (check connectors.brevo.api_url): " + err.Error()
	} else {
		r.Brevo = Reads(nil, c).Brevo
	}
	return r
}
