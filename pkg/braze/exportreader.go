package braze

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	kflate "github.com/klauspost/compress/flate"
)

// MaxExportLine is the longest export line ReadExport delivers; a longer one
// is reported as a Line with ErrLineTooLong and skipped.
const MaxExportLine = 16 << 20

// ErrLineTooLong is the Err of a Line longer than the limit.
var ErrLineTooLong = errors.New("braze: export line too long")

// Line is one line of an export entry.
type Line struct {
	Entry string // name of the ZIP entry
	No    int    // 1-based line number within the entry
	// Data is the line without its line ending. It is only valid during the
	// callback: copy what you keep.
	Data []byte
	// Err is set, and Data empty, for a line that could not be delivered;
	// reading goes on with the next line.
	Err error
}

// ReadExport calls fn for every non-empty line of every file in the export
// ZIP r (of size bytes), entries in archive order, lines in file order. An
// entry is decompressed as it is read, never held whole in memory; memory is
// bounded by the longest line. Reading stops at the first error fn returns,
// or when an entry is corrupt.
//
// The entries may decompress to DefaultMaxExportUncompressedBytes in all;
// ReadExportLimit sets another limit.
func ReadExport(r io.ReaderAt, size int64, fn func(Line) error) error {
	return readExport(r, size, MaxExportLine, DefaultMaxExportUncompressedBytes, fn)
}

// ReadExportLimit is ReadExport with the entries' decompressed total capped
// at maxUncompressed bytes (<= 0: the default): a larger export fails with
// ErrExportTooLarge before any line is delivered. The archive's declared
// sizes are what is checked, and they hold: archive/zip fails an entry
// that decompresses to more than it declared.
func ReadExportLimit(r io.ReaderAt, size, maxUncompressed int64, fn func(Line) error) error {
	if maxUncompressed <= 0 {
		maxUncompressed = DefaultMaxExportUncompressedBytes
	}
	return readExport(r, size, MaxExportLine, maxUncompressed, fn)
}

func readExport(r io.ReaderAt, size int64, maxLine int, maxUncompressed int64, fn func(Line) error) error {
	zr, err := zip.NewReader(r, size)
	if err != nil && !(zr != nil && errors.Is(err, zip.ErrInsecurePath)) {
		// Entry names are only labels here, nothing is extracted to disk,
		// so an insecure path is harmless.
		return fmt.Errorf("braze: opening export archive: %w", err)
	}
	// klauspost's inflater reads an export about 1.6 times as fast as the
	// standard library's; an incremental sync reads the export twice.
	zr.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser { return kflate.NewReader(r) })
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > uint64(maxUncompressed) || total < f.UncompressedSize64 {
			return fmt.Errorf("%w: its entries decompress to more than %d bytes (Config.MaxExportUncompressedBytes)",
				ErrExportTooLarge, maxUncompressed)
		}
	}
	lr := lineReader{maxLine: maxLine}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if err := lr.readEntry(f, fn); err != nil {
			return err
		}
	}
	return nil
}

// lineReader keeps its buffers across entries so a many-file export costs
// one set of allocations.
type lineReader struct {
	maxLine int
	br      *bufio.Reader
	line    []byte
}

func (lr *lineReader) readEntry(f *zip.File, fn func(Line) error) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("braze: opening export entry %q: %w", f.Name, err)
	}
	defer rc.Close()
	if lr.br == nil {
		lr.br = bufio.NewReaderSize(rc, 64<<10)
	} else {
		lr.br.Reset(rc)
	}
	for no := 1; ; no++ {
		data, tooLong, err := lr.next()
		if err != nil && err != io.EOF {
			return fmt.Errorf("braze: reading export entry %q line %d: %w", f.Name, no, err)
		}
		var ferr error
		switch {
		case tooLong:
			ferr = fn(Line{Entry: f.Name, No: no, Err: fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, lr.maxLine)})
		case len(data) > 0:
			ferr = fn(Line{Entry: f.Name, No: no, Data: data})
		}
		if ferr != nil {
			return ferr
		}
		if err == io.EOF {
			return nil
		}
	}
}

// next reads one line without its "\n" or "\r\n". A line longer than
// maxLine is consumed to its end and reported by tooLong.
func (lr *lineReader) next() (data []byte, tooLong bool, err error) {
	lr.line = lr.line[:0]
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if !tooLong {
			if len(lr.line)+len(chunk) > lr.maxLine+2 { // room for "\r\n"
				tooLong, lr.line = true, lr.line[:0]
			} else {
				lr.line = append(lr.line, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		data = bytes.TrimSuffix(bytes.TrimSuffix(lr.line, []byte("\n")), []byte("\r"))
		if len(data) > lr.maxLine {
			tooLong, data = true, nil
		}
		if tooLong {
			data = nil
		}
		return data, tooLong, err
	}
}
