package restcall

import (
	"context"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
)

func TestDecodeJSON(t *testing.T) {
	reset := syscall.ECONNRESET
	tests := []struct {
		name    string
		body    io.Reader
		wantErr error // nil: decodes; otherwise matched with errors.Is, when set
		wantCut bool
		fails   bool
	}{
		{name: "complete", body: strings.NewReader(`{"id":7}`)},
		{name: "empty", body: strings.NewReader(""), fails: true, wantErr: io.EOF},
		{name: "ends early", body: strings.NewReader(`{"id":`), fails: true, wantCut: true, wantErr: io.ErrUnexpectedEOF},
		{name: "connection reset", body: io.MultiReader(strings.NewReader(`{"id"`), iotest.ErrReader(reset)), fails: true, wantCut: true, wantErr: reset},
		{name: "malformed", body: strings.NewReader(`<html>`), fails: true},
		{name: "wrong type", body: strings.NewReader(`{"id":"seven"}`), fails: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out struct {
				ID int `json:"id"`
			}
			cut, err := DecodeJSON(tt.body, &out)
			if (err != nil) != tt.fails || cut != tt.wantCut {
				t.Fatalf("DecodeJSON = cut %v, %v; want cut %v, failure %v", cut, err, tt.wantCut, tt.fails)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !tt.fails && out.ID != 7 {
				t.Fatalf("decoded %+v", out)
			}
		})
	}
}

func TestDecodeAnswer(t *testing.T) {
	ctx := context.Background()
	var out struct {
		ID int `json:"id"`
	}
	if err := DecodeAnswer(ctx, "v", "GET", "/x", strings.NewReader(`{"id":7}`), &out); err != nil || out.ID != 7 {
		t.Fatalf("complete body: %v, %+v", err, out)
	}
	if err := DecodeAnswer(ctx, "v", "GET", "/x", strings.NewReader(""), &out); err != nil {
		t.Fatalf("empty body: %v, want nil", err)
	}
	err := DecodeAnswer(ctx, "v", "GET", "/x", strings.NewReader(`{"id":`), &out)
	if !Retryable(err) {
		t.Fatalf("cut body: %v, want a retryable TransportError", err)
	}
	err = DecodeAnswer(ctx, "v", "GET", "/x", strings.NewReader(`<html>`), &out)
	if err == nil || Retryable(err) || !strings.HasPrefix(err.Error(), "v: GET /x: decoding response: ") {
		t.Fatalf("malformed body: %v, want a permanent decoding error", err)
	}
}

func TestReadErrIgnoresEOF(t *testing.T) {
	r := &ReadErr{R: strings.NewReader("abc")}
	if b, err := io.ReadAll(r); err != nil || string(b) != "abc" || r.Err != nil {
		t.Fatalf("ReadAll = %q, %v; recorded %v", b, err, r.Err)
	}
	r = &ReadErr{R: iotest.ErrReader(syscall.ECONNRESET)}
	if _, err := io.Copy(io.Discard, r); !errors.Is(r.Err, syscall.ECONNRESET) || err == nil {
		t.Fatalf("Copy = %v; recorded %v, want ECONNRESET", err, r.Err)
	}
}

type trackedBody struct {
	io.Reader
	closed bool
}

func (b *trackedBody) Close() error { b.closed = true; return nil }

func TestCloseBodyDrainsALittle(t *testing.T) {
	src := strings.NewReader(strings.Repeat("x", 10<<10))
	body := &trackedBody{Reader: src}
	CloseBody(body)
	if !body.closed {
		t.Fatal("body not closed")
	}
	if left := src.Len(); left != 6<<10 {
		t.Fatalf("%d bytes left, want 4KiB drained of 10KiB", left)
	}
}
