package braze

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// What readAhead reads is the source's bytes in order, then the source's
// error, whatever the sizes of the reads on either side.
func TestReadAheadKeepsBytesAndErrors(t *testing.T) {
	data := make([]byte, 3*readAheadChunk*readAheadBuffers+12345)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.IntN(256))
	}
	var bufs [][]byte
	for _, tc := range []struct {
		name string
		src  io.Reader
		want error
	}{
		{"whole", bytes.NewReader(data), nil},
		{"one byte at a time", iotest.OneByteReader(bytes.NewReader(data)), nil},
		{"cut short", io.MultiReader(bytes.NewReader(data), iotest.ErrReader(errors.New("checksum mismatch"))), errors.New("checksum mismatch")},
	} {
		ra := newReadAhead(tc.src, &bufs)
		got, err := io.ReadAll(iotest.HalfReader(ra))
		ra.Close()
		if !bytes.Equal(got, data) {
			t.Errorf("%s: read %d bytes, not the source's %d", tc.name, len(got), len(data))
		}
		if (err == nil) != (tc.want == nil) || (err != nil && err.Error() != tc.want.Error()) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

// Closed before the end (a reader that stops early), readAhead stops
// inflating and lets its goroutine go.
func TestReadAheadClosedEarly(t *testing.T) {
	var bufs [][]byte
	ra := newReadAhead(bytes.NewReader(make([]byte, 64*readAheadChunk)), &bufs)
	if _, err := io.ReadFull(ra, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	ra.Close() // returns once the goroutine is gone (it is blocked on a full channel)
}
