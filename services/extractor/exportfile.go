package extractor

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// exportPattern names the file a download goes to, in Config.TempDir.
const exportPattern = "braze-export-*.zip"

// createExportFile creates the file a download goes to and holds a lock on
// it for as long as it is open, so that another extractor's start-up (see
// removeStaleExports) tells it from one a killed extractor left behind.
func createExportFile(dir string) (*os.File, error) { return createLockedFile(dir, exportPattern) }

// createLockedFile creates a file of the export's (pattern: exportPattern,
// or spoolPattern for a full run's spool of its users), locked as
// createExportFile says.
func createLockedFile(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern) // mode 0600: it holds every user's e-mail
	if err != nil {
		return nil, fmt.Errorf("creating a file for the export in %s: %w", dir, err)
	}
	if err := lockExport(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("locking the export file %s: %w", f.Name(), err)
	}
	return f, nil
}

// removeStaleExports removes the export files in dir that no running
// extractor holds: those of an extractor that was killed mid-run. An export
// is every user's e-mail and phone, and can be gigabytes; it must not stay
// in a temp directory for good.
func removeStaleExports(dir string, log *slog.Logger) {
	var paths []string
	for _, pattern := range []string{exportPattern, spoolPattern} {
		ps, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return // the patterns are constant and valid
		}
		paths = append(paths, ps...)
	}
	for _, p := range paths {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			continue // gone meanwhile, or not ours to open
		}
		held, err := staleExport(f)
		if err == nil && held {
			if err := os.Remove(p); err != nil {
				log.Warn("removing an export left by a stopped extractor", "file", p, "err", err)
			} else {
				log.Info("removed an export left by a stopped extractor", "file", p)
			}
		}
		f.Close()
	}
}

// maxUncompressed is the decompressed size of an export the Braze client
// was configured to accept (braze.Config.MaxExportUncompressedBytes); 0,
// the default, for a client that does not say.
func maxUncompressed(bz any) int64 {
	if l, ok := bz.(interface{ MaxExportUncompressed() int64 }); ok {
		return l.MaxExportUncompressed()
	}
	return 0
}

// tidyFiles are files to close and remove later, at once when the
// extractor is done with them would hold up what comes next.
type tidyFiles []*os.File

func (t *tidyFiles) add(f *os.File) { *t = append(*t, f) }

// remove closes and removes the files, the last added first.
func (t *tidyFiles) remove() {
	for i := len(*t) - 1; i >= 0; i-- {
		removeFile((*t)[i])
	}
	*t = nil
}
