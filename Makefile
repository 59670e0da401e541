# Riot's build and test entry points. `make test` is what CI runs.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME ?= 30s

.PHONY: run build test short lint fuzz bench system deps clean

## run: build and start a single-node server on 127.0.0.1:6379 (data in ./riot-data)
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/riot-server

## build: build bin/riot-server (static)
build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o bin/riot-server ./cmd/riot-server

## deps: install the Debian packages the tests use, when missing
deps:
	./scripts/deps.sh

## test: the whole suite (what CI runs): deps, lint, then every test with -race, riot's
## module and then bench/'s (a module of its own, which go test ./... does not enter);
## then the summary: each fault run's line, and every suite or test that skipped and why
## (go test ./... hides the output of a package that passes, skips included)
test: deps lint
	@summary=$$(mktemp); \
	  echo "$(GO) test -race -count=1 -timeout 20m ./..."; \
	  RIOT_TEST_SUMMARY=$$summary $(GO) test -race -count=1 -timeout 20m ./...; rc=$$?; \
	  echo "cd bench && $(GO) test -race -count=1 ./..."; \
	  (cd bench && $(GO) test -race -count=1 ./...) || rc=1; \
	  echo "summary:"; \
	  if [ -s $$summary ]; then cat $$summary; else echo "  nothing recorded"; fi; \
	  rm -f $$summary; exit $$rc

## short: the fast unit tests only
short:
	$(GO) test -race -short -count=1 ./...
	cd bench && $(GO) test -race -short -count=1 ./...

## lint: gofmt and go vet (the layering rules run as a test in lint_test.go)
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd bench && $(GO) vet ./...

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseRequest$$' -fuzztime $(FUZZTIME) ./respwire/
	$(GO) test -run '^$$' -fuzz '^FuzzCommands$$' -fuzztime $(FUZZTIME) ./resp/
	$(GO) test -run '^$$' -fuzz '^FuzzServerStream$$' -fuzztime $(FUZZTIME) ./resp/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeCommand$$' -fuzztime $(FUZZTIME) ./kv/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeBatch$$' -fuzztime $(FUZZTIME) ./kv/
	$(GO) test -run '^$$' -fuzz '^FuzzApply$$' -fuzztime $(FUZZTIME) ./kv/
	$(GO) test -run '^$$' -fuzz '^FuzzSlot$$' -fuzztime $(FUZZTIME) ./kv/
	$(GO) test -run '^$$' -fuzz '^FuzzParseInt$$' -fuzztime $(FUZZTIME) ./kv/
	$(GO) test -run '^$$' -fuzz '^FuzzIncrByFloat$$' -fuzztime $(FUZZTIME) ./kv/
	$(GO) test -run '^$$' -fuzz '^FuzzImport$$' -fuzztime $(FUZZTIME) ./kv/
	$(GO) test -run '^$$' -fuzz '^FuzzGlob$$' -fuzztime $(FUZZTIME) ./resp/

## bench: Go benchmarks of the hot paths
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./storage/ ./kv/ ./respwire/ ./resp/

## bench-compare: riot (1 and 3 nodes) next to etcd 3.4 (3 and 1 members) and redis-server
##   (appendfsync always), same Go load generator; writes docs/performance.md and docs/bench/*.svg.
##   About 50 minutes with the defaults on an idle machine; e.g. BENCH_FLAGS='-duration 2s -runs 1 -sweep "" -doc ""'
BENCH_FLAGS ?=
.PHONY: bench-compare
bench-compare:
	./scripts/deps.sh etcd
	cd bench && $(GO) run . -repo .. $(BENCH_FLAGS)

## system: only the process-level tests (real riot-server processes)
system: deps
	$(GO) test -race -count=1 ./systemtest/

## docker: bin/riot-server, then the image $(IMAGE) (FROM scratch: nothing is pulled; see Dockerfile)
IMAGE ?= riot-server:latest
.PHONY: docker
docker: build
	docker build -t $(IMAGE) .

clean:
	rm -rf bin

## jepsen: the long fault-injection run (root; docs/testing.md), e.g.
##   make jepsen DURATION=30m FAULTS=all NODES=5 SEED=42 HOLD=5s QUIET=2s JEPSEN_OUT=/tmp/jepsen
##   SNAPSHOTS=1: the snapshot mode (followers catch up by snapshot installs; adds the snapkill fault)
##   SHARDS=3: the sharded mode (--shards 3 on every node; clients follow MOVED)
DURATION ?= 10m
FAULTS   ?= all
NODES    ?= 5
SEED     ?=
HOLD     ?= 5s
QUIET    ?= 2s
SERVER_FLAGS ?=
SNAPSHOTS ?=
SHARDS   ?=
.PHONY: jepsen
jepsen:
	JEPSEN_DURATION=$(DURATION) JEPSEN_FAULTS=$(FAULTS) JEPSEN_NODES=$(NODES) JEPSEN_SEED=$(SEED) \
	  JEPSEN_HOLD=$(HOLD) JEPSEN_QUIET=$(QUIET) JEPSEN_SERVER_FLAGS="$(SERVER_FLAGS)" JEPSEN_SNAPSHOTS=$(SNAPSHOTS) JEPSEN_SHARDS=$(SHARDS) \
	  $(GO) test -race -count=1 -v -timeout 0 -run '^TestJepsenLong$$' ./jepsen/
