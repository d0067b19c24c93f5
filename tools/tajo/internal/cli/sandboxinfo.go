package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/tajo-sync/tajo/tools/tajo/internal/progress"
)

// sandboxInfo is what a user needs to talk to the simulators by hand.
type sandboxInfo struct {
	BrazeURL, BrazeAPIKey string
	BrevoURL, BrevoAPIKey string
	Users                 int
	Seed                  int64
}

// describeSandbox prints the simulators' addresses, keys and a first request
// for each, ready to paste. The request paths are the vendors' own, so the
// same lines work against the real APIs with real keys.
func describeSandbox(w io.Writer, s sandboxInfo) error {
	brevoV3 := strings.TrimSuffix(s.BrevoURL, "/")
	if !strings.HasSuffix(brevoV3, "/v3") {
		brevoV3 += "/v3"
	}
	_, err := fmt.Fprintf(w, `Sandbox: Braze and Brevo simulators with %s generated Braze users (seed %d).

  Braze   %s
          API key  %s
          curl -s -H 'Authorization: Bearer %s' '%s/segments/list?page=0'

  Brevo   %s
          API key  %s
          curl -s -H 'api-key: %s' '%s/contacts?limit=5'
`,
		progress.Count(int64(s.Users)), s.Seed,
		s.BrazeURL, s.BrazeAPIKey, s.BrazeAPIKey, strings.TrimSuffix(s.BrazeURL, "/"),
		s.BrevoURL, s.BrevoAPIKey, s.BrevoAPIKey, brevoV3)
	if err != nil {
		return fmt.Errorf("printing the sandbox description: %w", err)
	}
	return nil
}
