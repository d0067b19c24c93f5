package brevo

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// DefaultImportMaxBytes keeps an import body under Brevo's advice of about
// 8 MB (the hard limit is 10 MB).
const DefaultImportMaxBytes = 8_000_000

// importTailReserve is room kept in every batch for the closing options
// (`],"listIds":[...],"updateExistingContacts":...}`), so that a full batch
// still yields a body within its limit for any reasonable list of lists.
const importTailReserve = 1024

const importHead = `{"jsonBody":[`

// ImportOverhead is the bytes of an import body that are not its rows (or
// the commas between them), at most: the head and the room kept for the
// options.
const ImportOverhead = len(importHead) + importTailReserve

// ErrContactTooLarge is returned by ImportBatch.Add for a contact that could
// not fit even in an empty batch.
var ErrContactTooLarge = errors.New("brevo: contact too large for an import batch")

// ImportContact is one contact of an import.
type ImportContact struct {
	Email string
	// ExtID is carried as the EXT_ID attribute: the import's jsonBody has no
	// ext_id field. Brevo matches an import on EXT_ID before email.
	ExtID string
	// Attributes are keyed by upper-case attribute name.
	Attributes map[string]any
}

// ImportOptions are the settings of one import.
type ImportOptions struct {
	// ListIDs receive the imported contacts. Required by Brevo.
	ListIDs []int64
	// UpdateExistingContacts is sent as given: false creates new contacts
	// only (Brevo's own default is true).
	UpdateExistingContacts bool
	// EmptyContactsAttributes lets empty values erase existing data.
	EmptyContactsAttributes bool
	// DisableNotification stops Brevo's email about the import.
	DisableNotification bool
	// NotifyURL, when set, is called by Brevo once the import has
	// finished (its body is not specified: read the process to know more).
	NotifyURL string
}

// ImportBatch accumulates contacts into an import body that stays within a
// byte limit. Each contact is encoded once, when added; the body is the
// concatenation. Reuse a batch with Reset to keep its buffers. Not safe for
// concurrent use.
type ImportBatch struct {
	maxBytes int
	buf      []byte // importHead, then the contacts separated by commas
	n        int
	scratch  []byte
}

// NewImportBatch returns an empty batch whose body will not exceed maxBytes
// (DefaultImportMaxBytes when maxBytes <= 0).
func NewImportBatch(maxBytes int) *ImportBatch {
	if maxBytes <= 0 {
		maxBytes = DefaultImportMaxBytes
	}
	b := &ImportBatch{maxBytes: maxBytes}
	b.Release()
	return b
}

// Len is the number of contacts in the batch.
func (b *ImportBatch) Len() int { return b.n }

// Size is the number of body bytes the contacts take so far, excluding the
// closing options.
func (b *ImportBatch) Size() int { return len(b.buf) }

// Reset empties the batch, keeping its memory.
func (b *ImportBatch) Reset() {
	b.buf, b.n = b.buf[:len(importHead)], 0
}

// Release empties the batch and lets go of its body (Reset keeps it): a
// batch kept for the next import, minutes away, would hold megabytes
// meanwhile.
func (b *ImportBatch) Release() {
	b.buf, b.n, b.scratch = append(make([]byte, 0, 64<<10), importHead...), 0, nil
}

// Add encodes c into the batch. It returns false, leaving the batch as it
// was, when c would take the body over the limit: send the batch, Reset it
// and add c again. An error means c itself cannot be imported (no
// identifier, an unencodable value, ErrContactTooLarge).
func (b *ImportBatch) Add(c ImportContact) (ok bool, err error) {
	b.scratch, err = AppendImportRow(b.scratch[:0], c)
	if err != nil {
		return false, err
	}
	return b.AddRow(b.scratch)
}

// AddRow adds a row AppendImportRow encoded, as Add does.
func (b *ImportBatch) AddRow(row []byte) (ok bool, err error) {
	if len(importHead)+len(row)+importTailReserve > b.maxBytes {
		return false, fmt.Errorf("%w: %d bytes encoded, limit %d", ErrContactTooLarge, len(row), b.maxBytes)
	}
	if len(b.buf)+1+len(row)+importTailReserve > b.maxBytes {
		return false, nil
	}
	b.grow(1 + len(row))
	if b.n > 0 {
		b.buf = append(b.buf, ',')
	}
	b.buf = append(b.buf, row...)
	b.n++
	return true, nil
}

// grow makes room for n more bytes by doubling, never past maxBytes: left
// to append, a body grows by a quarter at a time past 256 KB, so an 8 MB
// import left about 30 MB of outgrown copies to the collector and ended
// with up to 10 MB of capacity.
func (b *ImportBatch) grow(n int) {
	need := len(b.buf) + n
	if need <= cap(b.buf) {
		return
	}
	// Room for Body's closing options too, so it need not copy the body.
	size := min(max(2*cap(b.buf), need+importTailReserve), b.maxBytes)
	if size < need { // Body's tail past the limit is refused there
		size = need
	}
	buf := make([]byte, len(b.buf), size)
	copy(buf, b.buf)
	b.buf = buf
}

// MaxBytes is the body limit the batch keeps to.
func (b *ImportBatch) MaxBytes() int { return b.maxBytes }

// Body returns the complete request body of POST /contacts/import for the
// batch. The bytes are the batch's own: valid until the next Add or Reset.
func (b *ImportBatch) Body(opts ImportOptions) ([]byte, error) {
	if b.n == 0 {
		return nil, errors.New("brevo: import batch is empty")
	}
	if len(opts.ListIDs) == 0 {
		return nil, errors.New("brevo: import needs at least one list id")
	}
	contacts := len(b.buf)
	body := append(b.buf, `],"listIds":[`...)
	for i, id := range opts.ListIDs {
		if i > 0 {
			body = append(body, ',')
		}
		body = strconv.AppendInt(body, id, 10)
	}
	body = append(body, `],"updateExistingContacts":`...)
	body = strconv.AppendBool(body, opts.UpdateExistingContacts)
	body = append(body, `,"emptyContactsAttributes":`...)
	body = strconv.AppendBool(body, opts.EmptyContactsAttributes)
	body = append(body, `,"disableNotification":`...)
	body = strconv.AppendBool(body, opts.DisableNotification)
	if opts.NotifyURL != "" {
		body = append(body, `,"notifyUrl":`...)
		body = appendString(body, opts.NotifyURL)
	}
	body = append(body, '}')
	b.buf = body[:contacts] // keep any growth, drop the tail
	if len(body) > b.maxBytes {
		return nil, fmt.Errorf("brevo: import body of %d bytes exceeds %d: too many list ids", len(body), b.maxBytes)
	}
	return body, nil
}

// AppendImportRow appends c encoded as one object of an import's jsonBody,
// {"email":...,"attributes":{"EXT_ID":...,...}}, with attributes in name
// order, so equal contacts give equal bytes. ParseImportRow reads it back.
func AppendImportRow(dst []byte, c ImportContact) ([]byte, error) {
	if extID, ok := c.Attributes["EXT_ID"]; ok && c.ExtID != "" && extID != c.ExtID {
		return dst, fmt.Errorf("brevo: import contact: ExtID %q and attribute EXT_ID %v disagree", c.ExtID, extID)
	}
	if c.Email == "" && c.ExtID == "" && !hasSMS(c.Attributes) && !hasExtIDAttr(c.Attributes) {
		return dst, fmt.Errorf("import contact: %w", ErrNoIdentifier)
	}
	dst = append(dst, '{')
	if c.Email != "" {
		dst = append(dst, `"email":`...)
		dst = appendString(dst, c.Email)
		dst = append(dst, ',')
	}
	dst = append(dst, `"attributes":{`...)
	first := true
	if c.ExtID != "" {
		dst = append(dst, `"EXT_ID":`...)
		dst = appendString(dst, c.ExtID)
		first = false
	}
	var scratch [32]string
	keys := scratch[:0]
	for k := range c.Attributes {
		if k == "EXT_ID" && c.ExtID != "" {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, c.Attributes[k]); err != nil {
			return dst, fmt.Errorf("brevo: import contact: attribute %s: %w", k, err)
		}
	}
	return append(dst, '}', '}'), nil
}

// ParseImportRow reads a row AppendImportRow encoded: the EXT_ID attribute
// comes back as ExtID, numbers as float64.
func ParseImportRow(row []byte) (ImportContact, error) {
	var r struct {
		Email      string         `json:"email"`
		Attributes map[string]any `json:"attributes"`
	}
	if err := json.Unmarshal(row, &r); err != nil {
		return ImportContact{}, fmt.Errorf("brevo: reading an import row: %w", err)
	}
	c := ImportContact{Email: r.Email, Attributes: r.Attributes}
	if id, ok := r.Attributes["EXT_ID"].(string); ok {
		c.ExtID = id
		delete(c.Attributes, "EXT_ID")
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	return c, nil
}

func hasExtIDAttr(attrs map[string]any) bool {
	s, ok := attrs["EXT_ID"].(string)
	return ok && s != ""
}
