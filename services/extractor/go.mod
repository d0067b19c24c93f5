module github.com/tajo-sync/tajo/services/extractor

go 1.26

require (
	github.com/nats-io/nats.go v1.55.0
	github.com/tajo-sync/tajo/pkg v0.0.0
	github.com/tajo-sync/tajo/proto v0.0.0
	github.com/tajo-sync/tajo/tools/sandbox v0.0.0
)

replace github.com/tajo-sync/tajo/pkg => ../../pkg

replace github.com/tajo-sync/tajo/proto => ../../proto

replace github.com/tajo-sync/tajo/tools/sandbox => ../../tools/sandbox
