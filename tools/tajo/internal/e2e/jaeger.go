package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tajo-sync/tajo/tools/tajo/internal/stack"
)

// Jaeger is a running Jaeger all-in-one (in-memory storage) bound to
// loopback: OTLP/HTTP on OTLPPort, the query API on QueryPort.
type Jaeger struct {
	OTLPPort, QueryPort int
	proc                *stack.Proc
}

// jaegerConfig keeps only what the test needs: the OTLP/HTTP receiver, the
// in-memory store and the query service, every listener on 127.0.0.1, the
// collector's own metrics off (they would listen on a fixed port).
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    storage:
      traces: mem
    http:
      endpoint: 127.0.0.1:%d
    grpc:
      endpoint: 127.0.0.1:%d
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 200000
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
processors:
  batch:
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
`

// StartJaeger runs bin with a config written in dir and waits until its
// query API answers.
func StartJaeger(ctx context.Context, bin, dir string) (*Jaeger, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	j := &Jaeger{QueryPort: ports[0], OTLPPort: ports[2]}
	conf := filepath.Join(dir, "jaeger.yaml")
	if err := os.WriteFile(conf, fmt.Appendf(nil, jaegerConfig, ports[0], ports[1], ports[2]), 0o600); err != nil {
		return nil, fmt.Errorf("writing the Jaeger config: %w", err)
	}
	j.proc, err = stack.Start("jaeger", bin, nil, "--config", "file:"+conf)
	if err != nil {
		return nil, err
	}
	for {
		var services struct{ Data []string }
		if err := j.get(ctx, "/api/services", nil, &services); err == nil {
			return j, nil
		}
		if j.proc.Exited() {
			return nil, fmt.Errorf("jaeger exited at start:\n%s", j.proc.Output())
		}
		select {
		case <-ctx.Done():
			j.proc.Kill()
			return nil, fmt.Errorf("waiting for Jaeger's query API: %w\n%s", ctx.Err(), j.proc.Output())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// OTLPEndpoint is the value of OTEL_EXPORTER_OTLP_ENDPOINT for the workers.
func (j *Jaeger) OTLPEndpoint() string { return "http://127.0.0.1:" + strconv.Itoa(j.OTLPPort) }

// Stop ends Jaeger. Its store is in memory and the test has read it:
// nothing to flush, so it is killed rather than waited for.
func (j *Jaeger) Stop() error {
	j.proc.Kill()
	return nil
}

// Output is what Jaeger logged.
func (j *Jaeger) Output() string { return j.proc.Output() }

// Trace is a trace as Jaeger's HTTP API returns it.
type Trace struct {
	TraceID   string `json:"traceID"`
	Spans     []Span `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

// Span is one span of a Trace.
type Span struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	ProcessID     string `json:"processID"`
	References    []struct {
		RefType string `json:"refType"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	Tags []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
}

// Tag returns the span's tag key as a string.
func (s Span) Tag(key string) string {
	for _, t := range s.Tags {
		if t.Key == key {
			return fmt.Sprint(t.Value)
		}
	}
	return ""
}

// Traces returns the traces holding spans of service (at most limit).
func (j *Jaeger) Traces(ctx context.Context, service string, limit int) ([]Trace, error) {
	var out struct{ Data []Trace }
	q := url.Values{"service": {service}, "limit": {strconv.Itoa(limit)}, "lookback": {"1h"}}
	if err := j.get(ctx, "/api/traces", q, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// Trace returns the trace of id; an error while Jaeger does not hold it.
func (j *Jaeger) Trace(ctx context.Context, id string) (Trace, error) {
	var out struct{ Data []Trace }
	if err := j.get(ctx, "/api/traces/"+id, nil, &out); err != nil {
		return Trace{}, err
	}
	if len(out.Data) != 1 {
		return Trace{}, fmt.Errorf("jaeger holds %d traces of id %s", len(out.Data), id)
	}
	return out.Data[0], nil
}

func (j *Jaeger) get(ctx context.Context, path string, q url.Values, out any) error {
	u := "http://127.0.0.1:" + strconv.Itoa(j.QueryPort) + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("querying Jaeger %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("querying Jaeger %s: status %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding Jaeger's answer to %s: %w", path, err)
	}
	return nil
}

// freePorts asks the kernel for n unused loopback ports at once.
func freePorts(n int) ([]int, error) {
	var out []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer ln.Close()
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}
