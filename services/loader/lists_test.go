package loader

import (
	"context"
	"errors"
	"testing"

	"github.com/sony/gobreaker/v2"

	"github.com/tajo-sync/tajo/pkg/pipeline"
	"github.com/tajo-sync/tajo/pkg/resilience"
	"github.com/tajo-sync/tajo/pkg/restcall"
)

// TestListFate: what a failed list call does to the changes it carried.
// A breaker refusing calls while Brevo fails must be retried, not
// dead-lettered (the list would stay wrong for good).
func TestListFate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		permanent bool
	}{
		{"breaker open", &resilience.OpenError{Vendor: "brevo", Bucket: "contacts", Err: gobreaker.ErrOpenState}, false},
		{"5xx", &restcall.StatusError{Status: 502}, false},
		{"reset", &restcall.TransportError{Err: errors.New("connection reset by peer")}, false},
		{"400", &restcall.StatusError{Status: 400}, true},
		{"cancelled", context.Canceled, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := listFate(tc.err)
			var perm *pipeline.PermanentError
			if errors.As(err, &perm) != tc.permanent {
				t.Fatalf("listFate(%v) = %v; permanent %v, want %v", tc.err, err, !tc.permanent, tc.permanent)
			}
		})
	}
}
