package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/pkg/braze"
	"github.com/tajo-sync/tajo/pkg/brevo"
	"github.com/tajo-sync/tajo/pkg/restcall"
)

// probeTimeout bounds one check's request: a check that hangs is a failed
// check, not a hung command.
const probeTimeout = 20 * time.Second

// prober makes the connection checks' requests. They are raw HTTP rather than
// the typed clients' calls because a check is about the answer itself (status
// and error body), including calls the connector never makes, such as the
// no-op contact update.
// The default client is the vendor clients' (restcall): no redirect
// followed (the key would go along), no proxy for loopback. Every probe is
// recorded in the audit trail when audit is set.
type prober struct {
	http  *http.Client
	audit *cliAudit
}

func newProber(c *http.Client, a *cliAudit) prober {
	return prober{http: restcall.Client(c), audit: a}
}

// probe is one answer: the status and body, or why there was none.
type probe struct {
	method, path string
	status       int
	body         []byte
	err          error     // no answer at all
	start        time.Time // when the request was made
}

func (p probe) ok() bool { return p.err == nil && p.status >= 200 && p.status <= 299 }

// message is the vendor's own error message, for the ✗ line.
func (p probe) message() string {
	var b struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	}
	if json.Unmarshal(p.body, &b) == nil && b.Message != "" {
		return b.Message
	}
	return http.StatusText(p.status)
}

func (pr prober) braze(ctx context.Context, base, key, method, path string, body any) probe {
	return pr.record(braze.Vendor, pr.do(ctx, base, method, path, body, "Authorization", "Bearer "+key))
}

func (pr prober) brevo(ctx context.Context, base, key, method, path string, body any) probe {
	return pr.record(brevo.Vendor, pr.do(ctx, base, method, path, body, "api-key", key))
}

// record puts p in the audit trail.
func (pr prober) record(vendor string, p probe) probe {
	if pr.audit != nil {
		pr.audit.record(vendor, p, p.start, time.Since(p.start))
	}
	return p
}

func (pr prober) do(ctx context.Context, base, method, path string, body any, authHeader, auth string) probe {
	p := probe{method: method, path: path, start: time.Now()}
	if i := strings.IndexByte(p.path, '?'); i >= 0 {
		p.path = p.path[:i]
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			p.err = fmt.Errorf("encoding the request: %w", err)
			return p
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(base, "/")+path, rd)
	if err != nil {
		p.err = fmt.Errorf("building the request: %w", err)
		return p
	}
	req.Header.Set(authHeader, auth)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := pr.http.Do(req)
	if err != nil {
		// url.Error repeats the URL; the cause is what helps.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		p.err = err
		return p
	}
	defer resp.Body.Close()
	p.status = resp.StatusCode
	p.body, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return p
}

// brazeRemedy explains a failed Braze call: the likely cause and the fix.
// perm is the permission the call needs.
func brazeRemedy(p probe, perm string) string {
	switch {
	case p.err != nil:
		return fmt.Sprintf("no answer (%v): check instance_url and that this machine can reach it (proxy, firewall)", p.err)
	case p.status == http.StatusUnauthorized:
		return "401 " + p.message() + ": the key is wrong or belongs to another instance (e.g. iad-01 vs iad-02): " +
			"regenerate it in Braze > Settings > API Keys or check instance_url"
	case p.status == http.StatusForbidden:
		return fmt.Sprintf("403 %s: the key lacks the %s permission: edit the key in Braze > Settings > API Keys and tick %s "+
			"(a 403 can also mean the Braze plan is inactive)", p.message(), perm, perm)
	case p.status == http.StatusTooManyRequests:
		return "429 rate limited: the key's budget for " + p.path + " is spent; try again after the hour (or minute) turns"
	case p.status >= 500:
		return fmt.Sprintf("%d %s: Braze is failing; try again in a few minutes", p.status, p.message())
	default:
		return fmt.Sprintf("%d %s: unexpected answer to %s %s", p.status, p.message(), p.method, p.path)
	}
}

// brevoRemedy explains a failed Brevo call.
func brevoRemedy(p probe) string {
	switch {
	case p.err != nil:
		return fmt.Sprintf("no answer (%v): check connectors.brevo.api_url and that this machine can reach it (proxy, firewall)", p.err)
	case p.status == http.StatusUnauthorized:
		return "401 " + p.message() + ": the Brevo key is wrong or was deleted: create an API v3 key (xkeysib-...) in " +
			"Brevo > SMTP & API > API Keys and run `tajo connectors install braze --brevo-api-key KEY`"
	case p.status == http.StatusForbidden:
		return "403 " + p.message() + ": the key may not do this; if Brevo restricts API access by IP, authorise this " +
			"machine's address in Brevo > Security > Authorised IPs"
	case p.status == http.StatusTooManyRequests:
		return "429 rate limited: Brevo's budget for " + p.path + " is spent (100 an hour outside /contacts); try again later"
	case p.status >= 500:
		return fmt.Sprintf("%d %s: Brevo is failing; try again in a few minutes", p.status, p.message())
	default:
		return fmt.Sprintf("%d %s: unexpected answer to %s %s", p.status, p.message(), p.method, p.path)
	}
}
