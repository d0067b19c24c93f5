package audit

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tajo-sync/tajo/pkg/restcall"
	"github.com/tajo-sync/tajo/proto"
)

// SchemaVersion is the Entry layout this build writes.
const SchemaVersion = 1

// Entry is one vendor API call. Encoded with msgpack on the bus; the json
// tags are what `tajo audit tail --json` prints.
type Entry struct {
	V        int           `msgpack:"v" json:"v"`
	Time     time.Time     `msgpack:"t" json:"time"` // when the call started
	Vendor   string        `msgpack:"vendor" json:"vendor"`
	Method   string        `msgpack:"method" json:"method"`
	Path     string        `msgpack:"path" json:"path"`     // a template: no query, no ids, no e-mails
	Status   int           `msgpack:"status" json:"status"` // 0 when no response arrived
	Duration time.Duration `msgpack:"dur" json:"duration_ns"`
	Attempt  int           `msgpack:"attempt" json:"attempt"`
	RunID    string        `msgpack:"run,omitempty" json:"run_id,omitempty"`
	Service  string        `msgpack:"svc" json:"service"`
	// ErrorClass says how the call failed, never with the error's text:
	// see Classify.
	ErrorClass string `msgpack:"err,omitempty" json:"error_class,omitempty"`
}

// Subject is where e is published: audit.<vendor>.
func (e Entry) Subject() string { return "audit." + proto.Token(e.Vendor) }

// Encode marshals e with msgpack, stamping the schema version.
func (e Entry) Encode() ([]byte, error) {
	if e.V == 0 {
		e.V = SchemaVersion
	}
	return msgpack.Marshal(&e)
}

// Decode unmarshals an entry. Newer versions only add fields, so an entry
// of a later schema decodes with what this build knows.
func Decode(data []byte) (Entry, error) {
	var e Entry
	if err := msgpack.Unmarshal(data, &e); err != nil {
		return Entry{}, err
	}
	if e.V < 1 {
		return Entry{}, errors.New("not an audit entry: no schema version")
	}
	return e, nil
}

// Error classes.
const (
	ClassTimeout      = "timeout"      // the call or the caller's context timed out
	ClassCanceled     = "canceled"     // the caller gave up
	ClassTransport    = "transport"    // no complete response: refused, reset, cut short
	ClassNotReady     = "not_ready"    // a Braze export polled before it was written
	ClassUnauthorized = "unauthorized" // 401
	ClassForbidden    = "forbidden"    // 403
	ClassNotFound     = "not_found"    // 404
	ClassRateLimited  = "rate_limited" // 429
	ClassClient       = "client_error" // another 4xx
	ClassServer       = "server_error" // 5xx
	ClassDecode       = "decode"       // a 2xx whose body was not what the client expected
	ClassOther        = "error"
)

// Classify names how a call with this status and error failed; "" when err
// is nil.
func Classify(status int, err error) string {
	if err == nil {
		return ""
	}
	var ne net.Error
	switch {
	case errors.Is(err, restcall.ErrNotReady):
		return ClassNotReady
	case errors.Is(err, context.Canceled):
		return ClassCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return ClassTimeout
	}
	switch {
	case status == 401:
		return ClassUnauthorized
	case status == 403:
		return ClassForbidden
	case status == 404:
		return ClassNotFound
	case status == 429:
		return ClassRateLimited
	case status >= 500:
		return ClassServer
	case status >= 400:
		return ClassClient
	case status >= 200 && status < 300:
		return ClassDecode
	}
	if _, ok := errors.AsType[*restcall.TransportError](err); ok && status == 0 {
		return ClassTransport
	}
	return ClassOther
}

// maxWordSegment is the longest path segment kept as written: a longer one
// is more likely a token than a route name.
const maxWordSegment = 32

// Template reduces a request path to its route: the query and fragment go,
// and every segment that is not a plain word (letters, '_' and '-') or a
// placeholder such as {identifier} becomes {id}. So
// /contacts/lists/12/contacts/add stays recognisable while
// /contacts/jane@example.com or an export's object key reveal nothing.
func Template(path string) string {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		return "/"
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if s != "" && !routeWord(s) {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}

func routeWord(s string) bool {
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") && len(s) <= maxWordSegment {
		return true
	}
	if len(s) > maxWordSegment {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
