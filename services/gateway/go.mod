module github.com/tajo-sync/tajo/services/gateway

go 1.26

require (
	github.com/nats-io/nats.go v1.55.0
	github.com/tajo-sync/tajo/pkg v0.0.0
	github.com/tajo-sync/tajo/proto v0.0.0
	go.opentelemetry.io/otel v1.47.0
	go.opentelemetry.io/otel/trace v1.47.0
	gopkg.in/yaml.v3 v3.0.1
)

replace github.com/tajo-sync/tajo/pkg => ../../pkg

replace github.com/tajo-sync/tajo/proto => ../../proto
