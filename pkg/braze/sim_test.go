package braze

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	brazesim "github.com/tajo-sync/tajo/tools/sandbox/braze"
	"github.com/tajo-sync/tajo/tools/sandbox/gen"
)

// TestAgainstSimulator runs the client against the sandbox's Braze
// simulator, which is written from Braze's docs and spec and not from this
// client, so a misreading of the API on either side shows up here.
func TestAgainstSimulator(t *testing.T) {
	const users = 3000
	g := gen.New(5, users)
	sim := brazesim.New(brazesim.Config{APIKey: "braze-sim-key", Gen: g, ExportDelay: 100 * time.Millisecond, RateLimit: true})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	sim.SetBaseURL(srv.URL)
	defer sim.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := New(Config{BaseURL: srv.URL, APIKey: "braze-sim-key"})
	if err != nil {
		t.Fatal(err)
	}

	segs, err := c.Segments(ctx)
	if err != nil || len(segs) < 101 {
		t.Fatalf("segments over several pages: %d, %v", len(segs), err)
	}
	all, err := c.FindSegment(ctx, "All Users")
	if err != nil || all.ID != brazesim.AllUsersSegmentID {
		t.Fatalf("FindSegment(All Users) = %+v, %v", all, err)
	}

	res, err := c.ExportSegment(ctx, ExportSegmentRequest{SegmentID: all.ID, FieldsToExport: []string{"braze_id", "external_id", "email"}})
	if err != nil || res.URL == "" {
		t.Fatalf("ExportSegment: %+v, %v", res, err)
	}
	if _, err := c.DownloadExport(ctx, res.URL, nil); !errors.Is(err, ErrExportNotReady) {
		t.Fatalf("an export just requested: %v, want ErrExportNotReady", err)
	}
	f, err := os.CreateTemp(t.TempDir(), "export-*.zip")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, err := c.WaitExport(ctx, res.URL, func() (io.WriteCloser, error) { return nopCloser{f}, nil },
		Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	lines, bad := 0, 0
	if err := ReadExport(f, size, func(l Line) error {
		if l.Err != nil {
			bad++
		}
		lines++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if lines != users || bad != 0 {
		t.Fatalf("export: %d lines (%d unreadable), want %d", lines, bad, users)
	}

	id, _ := g.ExternalID(0)
	ids, err := c.ExportIDs(ctx, ExportIDsRequest{ExternalIDs: []string{id, "no-such-user"}, FieldsToExport: []string{"external_id", "email"}})
	if err != nil || len(ids.Users) != 1 || len(ids.InvalidUserIDs) != 1 {
		t.Fatalf("ExportIDs: %+v, %v", ids, err)
	}

	// A wrong key is a 401; a key without the permission is a 403.
	bad401, _ := New(Config{BaseURL: srv.URL, APIKey: "wrong"})
	var ae *APIError
	if _, err := bad401.ListSegments(ctx, 0); !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || Retryable(err) {
		t.Fatalf("wrong key: %v", err)
	}
	sim.AddKey("limited", brazesim.PermSegmentsList)
	limited, _ := New(Config{BaseURL: srv.URL, APIKey: "limited"})
	if _, err := limited.ExportIDs(ctx, ExportIDsRequest{ExternalIDs: []string{id}, FieldsToExport: []string{"email"}}); !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Fatalf("key without users.export.ids: %v", err)
	}
}
