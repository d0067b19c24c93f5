package restcall

import (
	"encoding/json"
	"errors"
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
