module github.com/tajo-sync/tajo/tools/tajo

go 1.26.0

require (
	github.com/nats-io/nats-server/v2 v2.15.2
	github.com/nats-io/nats.go v1.55.0
	github.com/nyaruka/phonenumbers v1.8.1
	github.com/spf13/cobra v1.10.2
	github.com/tajo-sync/tajo/pkg v0.0.0
	github.com/tajo-sync/tajo/proto v0.0.0
	github.com/tajo-sync/tajo/services/extractor v0.0.0
	github.com/tajo-sync/tajo/services/gateway v0.0.0
	github.com/tajo-sync/tajo/services/loader v0.0.0
	github.com/tajo-sync/tajo/services/transformer v0.0.0
	github.com/tajo-sync/tajo/tools/sandbox v0.0.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/chromedp/cdproto v0.160.1 // indirect
	github.com/chromedp/chromedp v0.23.1 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	go.opentelemetry.io/proto/otlp v1.11.0 // indirect
)

require (
	go.yaml.in/yaml/v2 v2.4.4 // indirect
	k8s.io/api v0.37.2
	sigs.k8s.io/yaml v1.6.0
)

require (
	github.com/antithesishq/antithesis-sdk-go v0.8.0-default-no-op // indirect
	github.com/compose-spec/compose-go/v2 v2.16.2
	github.com/google/go-tpm v0.9.8 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/minio/highwayhash v1.0.4 // indirect
	github.com/nats-io/jwt/v2 v2.8.2 // indirect
	github.com/nats-io/nkeys v0.4.16 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	github.com/spf13/pflag v1.0.10 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	golang.org/x/time v0.16.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/tajo-sync/tajo/pkg => ../../pkg

replace github.com/tajo-sync/tajo/proto => ../../proto

replace github.com/tajo-sync/tajo/services/extractor => ../../services/extractor

replace github.com/tajo-sync/tajo/services/gateway => ../../services/gateway

replace github.com/tajo-sync/tajo/services/transformer => ../../services/transformer

replace github.com/tajo-sync/tajo/services/loader => ../../services/loader

replace github.com/tajo-sync/tajo/tools/sandbox => ../sandbox
