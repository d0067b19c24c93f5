package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/tajo-sync/tajo/tools/sandbox"
	brevosim "github.com/tajo-sync/tajo/tools/sandbox/brevo"
)

// SandboxOptions configure a sandbox child process.
type SandboxOptions struct {
	Users int   `json:"users"`
	Seed  int64 `json:"seed"`
	// Limits turns the vendors' rate limits on and gives the Brevo
	// simulator its realistic import timing (brevo.RealisticImportDelay and
	// RealisticImportRowsPerSecond); off, imports take the default 200 ms.
	Limits bool `json:"limits"`
	// SpanSink adds an OTLP/HTTP trace receiver that counts the spans it
	// is sent (Endpoints.OTLPEndpoint, SpanCounts): in this child, its CPU
	// is not charged to the connector's process.
	SpanSink bool `json:"span_sink"`
}

// Endpoints are where the sandbox serves (it runs in another process, so
// its memory is not counted as the connector's).
type Endpoints struct {
	BrazeURL    string `json:"braze_url"`
	BrazeAPIKey string `json:"braze_api_key"`
	BrevoURL    string `json:"brevo_url"`
	BrevoAPIKey string `json:"brevo_api_key"`
	Users       int    `json:"users"`
	Seed        int64  `json:"seed"`
	// ImportDelay and ImportRowsPerSecond are the Brevo simulator's import
	// timing: each import takes ImportDelay plus its rows at that rate.
	ImportDelay         time.Duration `json:"import_delay"`
	ImportRowsPerSecond float64       `json:"import_rows_per_second"`
	// OTLPEndpoint is the span receiver's OTEL_EXPORTER_OTLP_ENDPOINT
	// (SandboxOptions.SpanSink), else empty.
	OTLPEndpoint string `json:"otlp_endpoint,omitempty"`
}

// ImportTime is how long the Brevo simulator spends on imports that
// together hold rows: ImportDelay each, plus the rows at
// ImportRowsPerSecond.
func (e Endpoints) ImportTime(imports, rows int) time.Duration {
	d := time.Duration(imports) * e.ImportDelay
	if e.ImportRowsPerSecond > 0 {
		d += time.Duration(float64(rows) / e.ImportRowsPerSecond * float64(time.Second))
	}
	return d
}

// ServeSandbox is the child's side: it serves the simulators, writes their
// Endpoints as one JSON line to out, and serves until in is closed (the
// parent went away) or ctx ends.
func ServeSandbox(ctx context.Context, o SandboxOptions, in io.Reader, out io.Writer) error {
	so := sandbox.Options{Users: o.Users, Seed: o.Seed, RateLimits: o.Limits,
		ExportDelay: 100 * time.Millisecond, StoreExports: true,
		ImportDelay: brevosim.DefaultImportDelay}
	if o.Limits {
		so.ImportDelay, so.ImportRowsPerSecond = brevosim.RealisticImportDelay, brevosim.RealisticImportRowsPerSecond
	}
	sb, err := sandbox.Start(ctx, so)
	if err != nil {
		return fmt.Errorf("starting the sandbox: %w", err)
	}
	defer sb.Close()
	ep := Endpoints{BrazeURL: sb.BrazeURL, BrazeAPIKey: sb.BrazeAPIKey,
		BrevoURL: sb.BrevoURL, BrevoAPIKey: sb.BrevoAPIKey, Users: o.Users, Seed: o.Seed,
		ImportDelay: so.ImportDelay, ImportRowsPerSecond: so.ImportRowsPerSecond}
	if o.SpanSink {
		sink, err := startSpanSink()
		if err != nil {
			return fmt.Errorf("starting the span receiver: %w", err)
		}
		defer sink.Close()
		ep.OTLPEndpoint = sink.Endpoint()
	}
	if err := json.NewEncoder(out).Encode(ep); err != nil {
		return fmt.Errorf("writing the sandbox's endpoints: %w", err)
	}
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, in)
		close(eof)
	}()
	select {
	case <-eof:
	case <-ctx.Done():
	}
	return nil
}

// SandboxChildFlag is the flag of tajo-bench that makes it a sandbox child;
// its value is the SandboxOptions as JSON.
const SandboxChildFlag = "sandbox-child"

// SandboxProc is a sandbox child process.
type SandboxProc struct {
	Endpoints
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// StartSandbox runs self (the tajo-bench binary) as a sandbox child and
// returns once it serves.
func StartSandbox(ctx context.Context, self string, o SandboxOptions) (*SandboxProc, error) {
	arg, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-"+SandboxChildFlag, string(arg))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("starting the sandbox: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting the sandbox: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the sandbox: %w", err)
	}
	p := &SandboxProc{cmd: cmd, stdin: stdin}
	read := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadBytes('\n')
		if err == nil {
			err = json.Unmarshal(line, &p.Endpoints)
		}
		read <- err
	}()
	select {
	case err = <-read:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("reading the sandbox's endpoints: %w", err)
	}
	return p, nil
}

// PID is the child's process id.
func (p *SandboxProc) PID() int { return p.cmd.Process.Pid }

// Close tells the child to stop (its stdin closes) and waits for it; after
// 30 seconds it is killed by its PID.
func (p *SandboxProc) Close() error {
	p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		return fmt.Errorf("the sandbox (pid %d) did not stop within 30s", p.PID())
	}
}

// adminClient talks to the simulators' admin APIs, which answer loopback
// clients without a key.
var adminClient = &http.Client{Timeout: 5 * time.Minute}

func adminCall(ctx context.Context, method, url string, body, into any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := adminClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(b))
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, url, err)
	}
	return nil
}

// MutateIndices changes the Braze users at these indices through the Braze
// simulator's admin API, as someone editing their profiles would (their
// identifiers stay), and returns the braze_ids of the users it changed.
func (e Endpoints) MutateIndices(ctx context.Context, indices []int) ([]string, error) {
	var out struct {
		Mutated []struct {
			BrazeID string `json:"braze_id"`
		} `json:"mutated"`
	}
	err := adminCall(ctx, http.MethodPost, e.BrazeURL+"/_admin/users/mutate", map[string]any{"indices": indices}, &out)
	if err != nil {
		return nil, fmt.Errorf("changing %d Braze users: %w", len(indices), err)
	}
	ids := make([]string, len(out.Mutated))
	for i, m := range out.Mutated {
		ids[i] = m.BrazeID
	}
	return ids, nil
}

// BrevoState reads the Brevo simulator's admin state.
func (e Endpoints) BrevoState(ctx context.Context) (brevosim.State, error) {
	var st brevosim.State
	if err := adminCall(ctx, http.MethodGet, strings.TrimSuffix(e.BrevoURL, "/v3")+"/_admin/state", nil, &st); err != nil {
		return st, fmt.Errorf("reading the Brevo simulator's state: %w", err)
	}
	return st, nil
}

// BrazeStatuses counts the Braze simulator's answers by status.
func (e Endpoints) BrazeStatuses(ctx context.Context) (map[string]int, error) {
	var st struct {
		Statuses map[string]int `json:"statuses"`
	}
	if err := adminCall(ctx, http.MethodGet, e.BrazeURL+"/_admin/state", nil, &st); err != nil {
		return nil, fmt.Errorf("reading the Braze simulator's state: %w", err)
	}
	return st.Statuses, nil
}

// Writes counts the contact rows Brevo was asked to write: rows of completed
// imports plus single upserts (POST /contacts, whatever the answer).
func Writes(st brevosim.State) int {
	n := st.Imports.Rows.Rows
	for k, c := range st.Requests {
		if strings.HasPrefix(k, "POST /v3/contacts ") {
			n += c
		}
	}
	return n
}

// Polls counts the GET /processes calls (one process or the list).
func Polls(st brevosim.State) int {
	n := 0
	for k, c := range st.Requests {
		if strings.HasPrefix(k, "GET /v3/processes") {
			n += c
		}
	}
	return n
}

// serveChild is a sandbox child's main: opts as JSON, stdin and stdout as
// the parent's pipes, until stdin closes.
func serveChild(opts string) error {
	var so SandboxOptions
	if err := json.Unmarshal([]byte(opts), &so); err != nil {
		return fmt.Errorf("reading the sandbox options %q: %w", opts, err)
	}
	return ServeSandbox(context.Background(), so, os.Stdin, os.Stdout)
}
