# tajo: every target works on a fresh clone with only Go installed. go.work
# ties the modules together, so everything runs from the repository root.

SHELL := bash
GO    ?= go

# The version stamped into bin/tajo (and the services, where they declare
# main.version; -X on a missing symbol is ignored by the linker).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# Module directories come from go.work: a `./...` pattern cannot span modules
# from a root that is not a module itself, so list each one.
MODULE_DIRS := $(patsubst $(CURDIR)/%,%,$(shell $(GO) list -m -f '{{.Dir}}'))
PKGS        := $(addprefix ./,$(addsuffix /...,$(MODULE_DIRS)))
SERVICES    := extractor transformer loader gateway

RUN_ARGS    ?= --sandbox
BENCH_USERS ?= 200000

.PHONY: all build run test lint fuzz bench bench-scale bench-smoke chaos shape e2e clean

all: build

## build: bin/tajo and one binary per service.
build: bin/tajo $(addprefix bin/,$(SERVICES))

# Always rebuilt; go's build cache makes an unchanged rebuild cheap.
.PHONY: bin/tajo $(addprefix bin/,$(SERVICES))
bin/tajo:
	$(GO) build -ldflags '$(LDFLAGS)' -o $@ ./tools/tajo

$(addprefix bin/,$(SERVICES)): bin/%:
	$(GO) build -ldflags '$(LDFLAGS)' -o $@ ./services/$*/cmd/$*

## run: the whole pipeline in one process against the built-in simulators.
run: bin/tajo
	./bin/tajo run $(RUN_ARGS)

## test: formatting, vet, then every test of every module with the race
## detector, in random order.
test: lint
	$(GO) test -race -shuffle=on -count=1 -timeout 15m $(PKGS)

## fuzz: every fuzz target (the decoders of outside input: export lines,
## config, vendor error bodies and rate-limit headers, ...) for FUZZTIME
## each. `make test` runs their seed corpora as plain tests.
FUZZTIME ?= 60s
fuzz:
	@set -e; grep -rl --include='*_test.go' '^func Fuzz' $(MODULE_DIRS) | xargs -n1 dirname | sort -u | while read -r dir; do \
		for fn in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "== $$dir $$fn ($(FUZZTIME))"; \
			$(GO) test -run XXX -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) ./$$dir; \
		done; \
	done

## lint: gofmt must have nothing to say; go vet on every module.
lint:
	@unformatted="$$(gofmt -l $(MODULE_DIRS))"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt -l lists files that need formatting (run gofmt -w on them):"; \
		echo "$$unformatted"; exit 1; \
	fi
	$(GO) vet $(PKGS)

## bench: BENCH_USERS users through the whole pipeline in one process against
## the sandbox, next to a bare two-hop JetStream baseline on the same server,
## then two incremental syncs (1% of the users changed each); then
## BENCH_SHAPE_USERS (default: BENCH_USERS, at most 100,000) through the worker processes on
## the pinned nats-server; with BENCH_LIMITS=1, BENCH_LIMITS_USERS through
## them against the vendors' limits; then BENCH_EVENTS Currents events
## through the gateway (events_ratio:) and a full sync of
## BENCH_TRACING_USERS with tracing off and on (tracing_cost:). Prints
## ratio:, peak_rss_mb:, peak_rss_mb.<process>:, incremental_writes:,
## store_bytes_per_user:, events_ratio:, tracing_cost: ...
## (README, Benchmark); exits non-zero when a check fails.
BENCH_SHAPE_USERS  ?=
BENCH_LIMITS       ?=
BENCH_LIMITS_USERS ?= 1000000
BENCH_ARGS         ?=
bench: bin/nats-server
	$(GO) build -o bin/tajo-bench ./tools/tajo/cmd/tajo-bench
	BENCH_USERS=$(BENCH_USERS) BENCH_SHAPE_USERS=$(BENCH_SHAPE_USERS) BENCH_LIMITS=$(BENCH_LIMITS) \
	BENCH_LIMITS_USERS=$(BENCH_LIMITS_USERS) ./bin/tajo-bench -nats-server bin/nats-server $(BENCH_ARGS)

## bench-scale: `make bench` at each size of BENCH_SCALE (the production
## shape at the same size), each in its own process, then one table. Hours at
## the default sizes.
BENCH_SCALE ?= 100000 1000000 3000000
bench-scale: bin/nats-server
	$(GO) build -o bin/tajo-bench ./tools/tajo/cmd/tajo-bench
	./bin/tajo-bench -scale "$(BENCH_SCALE)" -nats-server bin/nats-server $(BENCH_ARGS)

## bench-smoke: the bench harness itself, every phase at 3,000 users (a minute
## or two; too slow for make test).
bench-smoke: bin/nats-server
	BENCH_SMOKE=1 $(GO) test -count=1 -run TestBenchSmoke -v -timeout 15m ./tools/tajo/internal/bench/

## chaos: CHAOS_USERS users synced by the worker processes on an external
## nats-server (pinned, installed into bin/) under the sandbox's fault mix,
## each worker kind SIGKILLed twice and the server restarted once, then
## compared with a fault-free run; exits non-zero unless every check passed.
CHAOS_USERS ?= 100000
CHAOS_ARGS  ?=
chaos: bin/nats-server
	$(GO) build -o bin/tajo-chaos ./tools/tajo/cmd/tajo-chaos
	./bin/tajo-chaos --users $(CHAOS_USERS) --nats-server bin/nats-server $(CHAOS_ARGS)

## shape: the production shape without faults: SHAPE_USERS users through the
## worker processes on an external nats-server, the sandbox's vendor limits
## on, no kills, no restarts; fails if any contact row is written twice or
## the summary does not account for every exported user.
SHAPE_USERS ?= 300000
SHAPE_ARGS  ?=
shape: bin/nats-server
	$(GO) build -o bin/tajo-chaos ./tools/tajo/cmd/tajo-chaos
	./bin/tajo-chaos --users $(SHAPE_USERS) --kills 0 --nats-restarts 0 --faults '' --realistic-imports --nats-server bin/nats-server $(SHAPE_ARGS)

bin/nats-server:
	GOBIN=$(CURDIR)/bin $(GO) install github.com/nats-io/nats-server/v2@v2.15.2

## e2e: the worker binaries as processes on an external nats-server, with
## the sandbox and a real Jaeger (pinned in tools/jaeger, bound to
## 127.0.0.1): one user's trace must run extractor -> transformer -> loader
## -> Brevo; prints its trace id. Also the three-node cluster test.
E2E_ARGS ?=
e2e: bin/nats-server bin/jaeger
	$(GO) test -tags e2e -count=1 -timeout 20m -v $(E2E_ARGS) ./tools/tajo/internal/e2e/

# Jaeger's own module, outside go.work: its dependencies stay out of ours.
# Its cold build takes an hour on a busy 2-core machine, so the binary is
# kept in JAEGER_CACHE under a key of what it is built from (the pinned
# go.mod and go.sum, the Go version and platform): another clone or
# worktree on the same machine (CI runs in a fresh clone) copies it
# instead of linking it again; a change of pin builds anew.
JAEGER_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/tajo-jaeger
bin/jaeger: tools/jaeger/go.mod tools/jaeger/go.sum
	@set -e; key=$$( (cat tools/jaeger/go.mod tools/jaeger/go.sum; $(GO) env GOVERSION GOOS GOARCH) | sha256sum | cut -c1-16); \
	cached="$(JAEGER_CACHE)/jaeger-$$key"; mkdir -p bin; \
	if [ -x "$$cached" ]; then \
		echo "bin/jaeger: the pinned build cached in $$cached"; cp "$$cached" $@.tmp && mv $@.tmp $@; \
	else \
		echo "bin/jaeger: building the pinned Jaeger (tools/jaeger; long the first time on a machine)"; \
		(cd tools/jaeger && GOWORK=off $(GO) build -o $(CURDIR)/$@ github.com/jaegertracing/jaeger/cmd/jaeger); \
		mkdir -p "$(JAEGER_CACHE)" && cp $@ "$$cached.tmp.$$$$" && mv "$$cached.tmp.$$$$" "$$cached"; \
	fi

## clean: remove built binaries (the state under $$TAJO_HOME is left alone).
clean:
	rm -rf bin/
