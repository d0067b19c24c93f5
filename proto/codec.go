package proto

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/vmihailenco/msgpack/v5"
)

// Encode marshals a payload with msgpack, stamping the schema version.
func Encode(m Versioned) ([]byte, error) {
	b, err := msgpack.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", m, err)
	}
	return b, nil
}

// Decode unmarshals data into m and refuses an unknown schema version.
func Decode(data []byte, m Versioned) error {
	if err := msgpack.Unmarshal(data, m); err != nil {
		return fmt.Errorf("decoding %T: %w", m, err)
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

// AppliedValue is what the fingerprints bucket holds for a record key: the
// source version last applied at the vendor and the fingerprint of its
// content ("<version>:<fingerprint>"). The transformer compares content; the
// loader refuses to apply an older version over a newer one.
func AppliedValue(version int64, fingerprint string) string {
	return strconv.FormatInt(version, 10) + ":" + fingerprint
}

// ParseApplied splits an AppliedValue. A bare fingerprint (no version) reads
// as version 0.
func ParseApplied(v string) (version int64, fingerprint string) {
	i := strings.IndexByte(v, ':')
	if i < 0 {
		return 0, v
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil {
		return 0, v
	}
	return n, v[i+1:]
}
