package restcall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DecodeJSON streams body into out. cut reports that the failure came from
// the connection (a read error, or a body that ends early), which is worth a
// retry, rather than from a complete body that is not the expected JSON. An
// empty body yields io.EOF with cut false.
func DecodeJSON(body io.Reader, out any) (cut bool, err error) {
	r := &ReadErr{R: body}
	if err := json.NewDecoder(r).Decode(out); err != nil {
		return r.Err != nil || errors.Is(err, io.ErrUnexpectedEOF), err
	}
	return false, nil
}

// DecodeAnswer decodes a 2xx answer's JSON body into out, as a vendor
// client does: a body that ends early is a TransportError (retryable); an
// empty body leaves out as it was (nothing to decode); a complete body that
// is not the expected JSON is a plain error, not retryable.
func DecodeAnswer(ctx context.Context, vendor, method, route string, body io.Reader, out any) error {
	cut, err := DecodeJSON(body, out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF) && !cut:
		return nil
	case cut:
		return NewTransportError(ctx, vendor, method, route, "reading response", err)
	default:
		return fmt.Errorf("%s: %s %s: decoding response: %w", vendor, method, route, err)
	}
}

// ReadErr remembers a read failure of R (any error but io.EOF), so that
// a decoder's syntax error or a copy's short count caused by a cut
// connection is told apart from a malformed body or a failing writer.
type ReadErr struct {
	R   io.Reader
	Err error
}

func (r *ReadErr) Read(p []byte) (int, error) {
	n, err := r.R.Read(p)
	if err != nil && err != io.EOF {
		r.Err = err
	}
	return n, err
}

// CloseBody drains a little of body so the connection can be reused,
// without reading an unbounded body nobody wants, and closes it.
func CloseBody(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 4<<10)
	_ = body.Close()
}
