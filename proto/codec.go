package proto

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// Encode marshals a payload with msgpack, stamping the schema version.
func Encode(m Versioned) ([]byte, error) {
	b, err := Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", m, err)
	}
	return b, nil
}

// Marshal is msgpack.Marshal into a buffer kept for the next call: the
// result is allocated once, at its size, instead of grown from nothing
// (each message of the pipeline is encoded this way).
func Marshal(v any) ([]byte, error) {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	var fast []byte
	switch u := v.(type) {
	case *ContactUpsert:
		if b, ok := u.appendMsgpack(e.scratch[:0]); ok {
			fast = b
		}
	case *RawUser:
		fast = u.appendMsgpack(e.scratch[:0])
	}
	if fast != nil {
		if cap(fast) <= maxKeptBuffer {
			e.scratch = fast
		}
		return bytes.Clone(fast), nil
	}
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	if e.buf.Cap() > maxKeptBuffer {
		defer func() { e.buf = bytes.Buffer{}; e.enc.Reset(&e.buf) }()
	}
	return bytes.Clone(e.buf.Bytes()), nil
}

// maxKeptBuffer: a buffer grown past it (a big pack) is not kept.
const maxKeptBuffer = 1 << 20

type encoder struct {
	buf     bytes.Buffer
	enc     *msgpack.Encoder
	scratch []byte // upserts are appended here (upsertcodec.go)
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = msgpack.NewEncoder(&e.buf)
	return e
}}

// Decode unmarshals data into m and refuses an unknown schema version.
func Decode(data []byte, m Versioned) error {
	var fast error = errOtherShape
	switch u := m.(type) {
	case *ContactUpsert:
		if fast = decodeUpsert(data, u); fast != nil {
			*u = ContactUpsert{} // what the fast path read is not kept
		}
	case *RawUser:
		if fast = decodeRawUser(data, u); fast != nil {
			*u = RawUser{}
		}
	}
	if fast != nil {
		if err := msgpack.Unmarshal(data, m); err != nil {
			return fmt.Errorf("decoding %T: %w", m, err)
		}
	}
	if v := m.Schema(); v < 1 || v > SchemaVersion {
		return fmt.Errorf("decoding %T: schema version %d not supported (this build knows 1..%d)", m, v, SchemaVersion)
	}
	return nil
}

// MsgID is the deterministic Nats-Msg-Id of a message: a hash of its
// source, its key and its content. The same content published twice inside
// the stream's dedup window is stored once. It is short on purpose: the
// server keeps every id of the window in memory.
func MsgID(source, key string, content []byte) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// KeyHash identifies a record key in headers and logs without revealing it
// (keys can be email addresses).
func KeyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:8])
}

// Applied is what the fingerprints bucket holds for a record key: what was
// last applied at the vendor. The transformer compares content; the loader
// refuses to apply an older version over a newer one, and releases the
// unique identifiers a contact no longer holds.
type Applied struct {
	Version     int64  // source version last applied
	Fingerprint string // of the mapped content
	// Email and SMS are the unique identifiers the vendor's contact holds
	// for this key: what the loader claimed and sent ("" none).
	Email, SMS string
	// Attrs says which mapped attributes were written (the loader's mask),
	// so that one cleared in the source is cleared at the vendor.
	Attrs string
	// Run names (in short) the run that applied it, and Outcome what that
	// run counted it as (the loader's ledger cell): a redelivery of the same
	// write in the same run reports that outcome again, not "unchanged".
	Run     string
	Outcome byte
}

// RunTag is the short form of a run id kept in Applied.Run.
func RunTag(run string) string {
	h := sha256.Sum256([]byte(run))
	return hex.EncodeToString(h[:4])
}

// String encodes a for the fingerprints bucket. A fingerprint of 32 hex
// digits (mapping.Contact.Fingerprint) and a run tag of 8 (RunTag), or
// none, are kept in binary (appliedBinary): the bucket holds one entry per
// user, read and rewritten in shards by every batch, and a third of an
// entry's text went to hex and decimal digits. Anything else is kept as
// text: "<version>:<fingerprint>", followed, when any is set, by
// "\x1f"-separated email, SMS, attribute mask, run and outcome (what
// earlier versions wrote; DecodeApplied reads both).
func (a Applied) String() string {
	var buf [128]byte // most records: one allocation, the string's
	if b, ok := a.appendBinary(buf[:0]); ok {
		return string(b)
	}
	s := strconv.FormatInt(a.Version, 10) + ":" + a.Fingerprint
	if a.hasIDs() {
		s += "\x1f" + a.Email + "\x1f" + a.SMS + "\x1f" + a.Attrs + "\x1f" + a.Run + "\x1f" + strconv.Itoa(int(a.Outcome))
	}
	return s
}

func (a Applied) hasIDs() bool { return a.Email != "" || a.SMS != "" || a.Attrs != "" || a.Run != "" }

// appliedBinary starts an Applied in binary: then a flags byte (bit 0: the
// identifiers, mask, run and outcome follow), the version (a varint), the
// fingerprint's 16 bytes, and with bit 0 the email, SMS and mask (each a
// uvarint length and its bytes), the run tag's 4 bytes (bit 1: there is
// one) and the outcome. The text form starts with a digit, a '-' or a
// fingerprint's first character, never with this byte.
const appliedBinary = 0x01

// appendBinary appends a in binary; ok false: a does not fit it (its
// fingerprint or run tag is not of the usual shape).
func (a Applied) appendBinary(b []byte) ([]byte, bool) {
	var fp [16]byte
	if len(a.Fingerprint) != 32 || !isLowerHex(a.Fingerprint) {
		return b, false
	}
	_, _ = hex.Decode(fp[:], []byte(a.Fingerprint))
	var run [4]byte
	var flags byte
	if a.hasIDs() {
		flags |= 1
	}
	if a.Run != "" {
		if len(a.Run) != 8 || !isLowerHex(a.Run) {
			return b, false
		}
		_, _ = hex.Decode(run[:], []byte(a.Run))
		flags |= 2
	}
	b = append(b, appliedBinary, flags)
	b = binary.AppendVarint(b, a.Version)
	b = append(b, fp[:]...)
	if flags&1 != 0 {
		for _, s := range []string{a.Email, a.SMS, a.Attrs} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		if flags&2 != 0 {
			b = append(b, run[:]...)
		}
		b = append(b, a.Outcome)
	}
	return b, true
}

// isLowerHex reports whether s is lowercase hex digits only (what
// hex.EncodeToString makes: the binary form gives back just that).
func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// decodeBinary reads an Applied appendBinary wrote, its strings sharing
// v's bytes; ok false: v is cut short or holds more.
func decodeBinary(v string) (a Applied, ok bool) {
	if len(v) < 2 || v[0] != appliedBinary {
		return a, false
	}
	flags, rest := v[1], v[2:]
	u, n := uvarint(rest)
	if n <= 0 || len(rest) < n+16 {
		return a, false
	}
	a.Version = int64(u>>1) ^ -int64(u&1) // zigzag, as binary.AppendVarint writes it
	a.Fingerprint = hex.EncodeToString([]byte(rest[n : n+16]))
	rest = rest[n+16:]
	if flags&1 == 0 {
		return a, len(rest) == 0 && flags == 0
	}
	for _, f := range []*string{&a.Email, &a.SMS, &a.Attrs} {
		l, n := uvarint(rest)
		if n <= 0 || uint64(len(rest)-n) < l {
			return Applied{}, false
		}
		*f = rest[n : n+int(l)]
		rest = rest[n+int(l):]
	}
	if flags&2 != 0 {
		if len(rest) < 4 {
			return Applied{}, false
		}
		a.Run = hex.EncodeToString([]byte(rest[:4]))
		rest = rest[4:]
	}
	if len(rest) != 1 {
		return Applied{}, false
	}
	a.Outcome = rest[0]
	return a, true
}

// uvarint is binary.Uvarint of a string: the value and the bytes it took
// (0: s is cut short; negative: more than 64 bits).
func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(b)<<shift, i + 1
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	if len(s) >= binary.MaxVarintLen64 {
		return 0, -binary.MaxVarintLen64
	}
	return 0, 0
}

// AppliedValue is Applied{Version: version, Fingerprint: fingerprint}.String().
func AppliedValue(version int64, fingerprint string) string {
	return Applied{Version: version, Fingerprint: fingerprint}.String()
}

// ParseApplied splits an AppliedValue. A bare fingerprint (no version) reads
// as version 0.
func ParseApplied(v string) (version int64, fingerprint string) {
	a := DecodeApplied(v)
	return a.Version, a.Fingerprint
}

// DecodeApplied decodes an Applied string, binary or text; a bare
// fingerprint (no version) reads as version 0.
func DecodeApplied(v string) Applied {
	if a, ok := decodeBinary(v); ok {
		return a
	}
	var a Applied
	if i := strings.IndexByte(v, '\x1f'); i >= 0 {
		ids := v[i+1:]
		v = v[:i]
		var out string
		a.Email, ids, _ = strings.Cut(ids, "\x1f")
		a.SMS, ids, _ = strings.Cut(ids, "\x1f")
		a.Attrs, ids, _ = strings.Cut(ids, "\x1f")
		a.Run, out, _ = strings.Cut(ids, "\x1f")
		if n, err := strconv.Atoi(out); err == nil && n >= 0 && n < 256 {
			a.Outcome = byte(n)
		}
	}
	i := strings.IndexByte(v, ':')
	if i < 0 {
		a.Fingerprint = v
		return a
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil {
		a.Fingerprint = v
		return a
	}
	a.Version, a.Fingerprint = n, v[i+1:]
	return a
}
