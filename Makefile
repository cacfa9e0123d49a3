# culprit: make demo (no services), make test (installs and starts what the
# tests need), make bench.
GO ?= go
BIN := bin/culprit

.PHONY: build demo test unit fuzz bench stack stack-down vet e2e

build:
	$(GO) build -o $(BIN) ./cmd/culprit

demo: build
	./scripts/demo.sh

vet:
	$(GO) vet ./...

# The whole suite against real services, as CI runs it.
test: build
	./scripts/deps.sh
	./scripts/stack up
	eval "$$(./scripts/stack env)" && $(GO) test -count=1 -timeout 25m ./...
	$(MAKE) fuzz

# Tests that need no services (integration tests skip outside CI).
unit:
	$(GO) test ./...

# Every fuzz target, briefly.
FUZZTIME ?= 60000x
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

bench: build
	./scripts/bench.sh

# Kafka and ClickHouse, then the demo on top: a flaky upstream behind nginx,
# culprit ship, analyze and serve (http://127.0.0.1:18800).
stack: build
	./scripts/deps.sh
	./scripts/stack up
	./scripts/e2e/live-stack.sh up

stack-down:
	./scripts/e2e/live-stack.sh down
	./scripts/stack down

# The live end-to-end run: real nginx and upstreams, ship, Kafka, analyze,
# ClickHouse; reports the latency from the first 5xx to the incident row.
e2e: build
	./scripts/deps.sh
	./scripts/stack up
	eval "$$(./scripts/stack env)" && $(GO) test -count=1 -v ./scripts/e2e/
