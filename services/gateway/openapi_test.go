package gateway_test

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tajo-sync/tajo/pkg/apikeys"
	"github.com/tajo-sync/tajo/pkg/natsx/natsxtest"
	"github.com/tajo-sync/tajo/services/gateway"
)

// spec is the part of openapi.yaml the test reads.
type spec struct {
	Paths      map[string]map[string]operation `yaml:"paths"`
	Components struct {
		Schemas   map[string]schema   `yaml:"schemas"`
		Responses map[string]response `yaml:"responses"`
	} `yaml:"components"`
}

type operation struct {
	RequestBody *struct {
		Required bool `yaml:"required"`
	} `yaml:"requestBody"`
	Responses map[string]response `yaml:"responses"`
}

type response struct {
	Ref     string `yaml:"$ref"`
	Content map[string]struct {
		Schema schema `yaml:"schema"`
	} `yaml:"content"`
}

type schema struct {
	Ref      string   `yaml:"$ref"`
	Required []string `yaml:"required"`
}

func loadSpec(t *testing.T) spec {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s spec
	if err := yaml.Unmarshal(b, &s); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return s
}

// required resolves the fields a response's JSON body must hold.
func (s spec) required(r response) []string {
	if r.Ref != "" {
		r = s.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")]
	}
	sc := r.Content["application/json"].Schema
	if sc.Ref != "" {
		sc = s.Components.Schemas[strings.TrimPrefix(sc.Ref, "#/components/schemas/")]
	}
	return sc.Required
}

// control answers the control API with fixed results.
type control struct{}

func (control) Connect(context.Context, gateway.ConnectRequest) (map[string]any, error) {
	return map[string]any{"connected": true, "stored": false}, nil
}
func (control) Sync(context.Context, gateway.SyncRequest) (string, error) { return "run-1", nil }
func (control) Run(_ context.Context, id string) (map[string]any, error) {
	if id != "run-1" {
		return nil, gateway.ErrNotFound
	}
	return map[string]any{"id": id, "resource": "users", "type": "full", "status": "completed",
		"startedAt": "2026-01-01T00:00:00Z", "done": true}, nil
}
func (control) ExportSegment(_ context.Context, req gateway.SegmentExport) (map[string]any, error) {
	if req.SegmentID != "s" || req.ListID != 7 {
		return nil, &gateway.BadRequestError{Msg: "unexpected request"}
	}
	return map[string]any{"count": 3, "segmentId": req.SegmentID, "listId": req.ListID}, nil
}

// TestOpenAPIMatchesHandlers checks openapi.yaml against the handlers: the
// same routes; each refuses a call without credentials with a documented
// 401; each answers a documented status whose body holds the fields the
// document requires.
func TestOpenAPIMatchesHandlers(t *testing.T) {
	s := loadSpec(t)
	var documented []string
	for path, ops := range s.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	routes := gateway.Routes()
	slices.Sort(documented)
	slices.Sort(routes)
	if !slices.Equal(documented, routes) {
		t.Fatalf("openapi.yaml documents %v\nthe gateway serves %v", documented, routes)
	}

	_, nc, _ := natsxtest.Start(t)
	keys, _ := apikeys.Open(t.TempDir())
	key, _, err := keys.Create("spec")
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(nc, gateway.Config{CurrentsToken: token, BrevoWebhookToken: token, Keys: keys, Control: control{}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{}
	srv := httptestServer(t, g.Handler())
	f.url = srv

	valid := map[string]string{
		"POST /v1/braze/currents":                   string(batch(2, 0)),
		"POST /v1/brevo/webhooks":                   `[{"event":"unsubscribed","id":1,"email":"a@example.com","ts":1}]`,
		"POST /v1/connectors/braze/events":          `{"type":"user.event","payload":{"external_id":"u","name":"n"}}`,
		"POST /v1/connectors/braze/connect":         `{"apiKey":"k","instanceUrl":"https://rest.iad-01.braze.com"}`,
		"POST /v1/connectors/braze/sync":            `{"type":"full","resources":["users"],"batchSize":100}`,
		"GET /v1/connectors/braze/runs/{id}":        ``,
		"GET /v1/connectors/braze/status":           ``,
		"GET /v1/connectors/braze/report":           ``,
		"POST /v1/connectors/braze/segments/export": `{"segmentId":"s","targetList":7,"includeAttributes":["email"]}`,
	}
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		op := s.Paths[path][strings.ToLower(method)]
		url := strings.Replace(path, "{id}", "run-1", 1)
		check := func(what string, code int, body map[string]any) {
			t.Helper()
			r, ok := op.Responses[strconv.Itoa(code)]
			if !ok {
				t.Errorf("%s %s: answered %d, which openapi.yaml does not document", route, what, code)
				return
			}
			for _, field := range s.required(r) {
				if _, ok := body[field]; !ok {
					t.Errorf("%s %s: the %d body %v lacks %q, which openapi.yaml requires", route, what, code, body, field)
				}
			}
		}
		code, body := f.do(t, method, url, "", []byte(valid[route]))
		if code != http.StatusUnauthorized {
			t.Errorf("%s without credentials answered %d, want 401", route, code)
		}
		check("without credentials", code, body)
		auth := "Bearer " + key
		if path == "/v1/braze/currents" || path == "/v1/brevo/webhooks" {
			auth = "Bearer " + token
		}
		code, body = f.do(t, method, url, auth, []byte(valid[route]))
		check("with a valid request", code, body)
		if op.RequestBody != nil {
			code, body = f.do(t, method, url, auth, []byte(`{"not":"this"`))
			check("with a malformed body", code, body)
		}
	}
	if code, body := f.do(t, "GET", "/v1/connectors/braze/runs/nope", "Bearer "+key, nil); code != 404 {
		t.Errorf("an unknown run answered %d %v", code, body)
	}
}
