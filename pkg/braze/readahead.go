package braze

import (
	"io"
	"sync"
)

// readAhead inflates an export entry on a goroutine of its own, a few
// buffers ahead of the lines being read: the inflating and the work done on
// each line (scanning, hashing, publishing) then go side by side on two
// cores, where one after the other they made half of an incremental
// sync's passes over its export.
type readAhead struct {
	full  chan chunk    // inflated bytes, in order; closed after the last
	empty chan []byte   // buffers given back
	stop  chan struct{} // closed by Close
	once  sync.Once
	done  sync.WaitGroup
	cur   chunk
	off   int
}

type chunk struct {
	b   []byte
	err error // io.EOF after the last bytes, or why reading stopped
}

const (
	readAheadChunk   = 256 << 10
	readAheadBuffers = 4
)

// newReadAhead reads src ahead into bufs (readAheadBuffers+1 buffers of
// readAheadChunk bytes, made when nil: an export's entries share them).
func newReadAhead(src io.Reader, bufs *[][]byte) *readAhead {
	r := &readAhead{
		full:  make(chan chunk, readAheadBuffers),
		empty: make(chan []byte, readAheadBuffers+1),
		stop:  make(chan struct{}),
	}
	if *bufs == nil {
		for range readAheadBuffers + 1 {
			*bufs = append(*bufs, make([]byte, readAheadChunk))
		}
	}
	for _, b := range *bufs {
		r.empty <- b
	}
	r.done.Add(1)
	go r.fill(src)
	return r
}

// fill reads src into the empty buffers until it ends or Close is called.
func (r *readAhead) fill(src io.Reader) {
	defer r.done.Done()
	defer close(r.full)
	for {
		var buf []byte
		select {
		case buf = <-r.empty:
		case <-r.stop:
			return
		}
		n, err := io.ReadFull(src, buf[:cap(buf)])
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		select {
		case r.full <- chunk{b: buf[:n], err: err}:
		case <-r.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (r *readAhead) Read(p []byte) (int, error) {
	for r.off == len(r.cur.b) {
		if r.cur.err != nil {
			return 0, r.cur.err
		}
		if r.cur.b != nil {
			r.empty <- r.cur.b[:cap(r.cur.b)]
		}
		c, ok := <-r.full
		if !ok {
			return 0, io.ErrClosedPipe
		}
		r.cur, r.off = c, 0
	}
	n := copy(p, r.cur.b[r.off:])
	r.off += n
	return n, nil
}

// Close stops the inflating and waits for its goroutine.
func (r *readAhead) Close() error {
	r.once.Do(func() { close(r.stop) })
	r.done.Wait()
	return nil
}
