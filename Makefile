# huiyin — common tasks. `make help` lists them.

GO      ?= go
BIN     := bin/huiyin
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: help build run test race e2e web-vendor vet fmt model eval bench fuzz load loadtest clean db db-stop

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

build: ## build bin/huiyin (trimmed paths: the binary carries its dictionaries and model)
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/huiyin

run: build ## build, start the dev database, load the knowledge base, show samples, then serve on :8080 (Ctrl-C stops)
	./$(BIN) triage "3栋2单元1502电梯困人了，快来！"
	./$(BIN) triage --jsonl < examples/messages.jsonl
	export DATABASE_URL="$$(scripts/devdb start)" && \
	  ./$(BIN) ingest && \
	  ./$(BIN) ask "管理费可以用微信交吗" && \
	  ./$(BIN) ask "红烧肉怎么做才好吃" && \
	  ./$(BIN) ask --jsonl < examples/questions.jsonl && \
	  ./$(BIN) draft "楼上每天半夜拖椅子，说了三次了还是这样" && \
	  ./$(BIN) draft --jsonl < examples/messages.jsonl > /dev/null && echo "drafts for examples/messages.jsonl: ok" && \
	  { out=$$(echo "$(DEV_ADMIN_PASSWORD)" | ./$(BIN) user add admin --role admin --name 管理员 2>&1) || \
	    case "$$out" in *已存在*) ;; *) echo "$$out" >&2; exit 1 ;; esac; } && \
	  echo "dev admin: admin / $(DEV_ADMIN_PASSWORD) (development only)" && \
	  ./$(BIN) serve

# The development admin's password; set your own for anything shared.
DEV_ADMIN_PASSWORD ?= huiyin-dev-2026

test: vet ## vet and every test: the race detector on the service, a short pass of every fuzz test, the browser tests
	$(GO) test -count=1 $$($(GO) list ./... | grep -vE '$(RACE_PKGS_RE)')
	$(MAKE) race
	FUZZTIME=10000x scripts/fuzz
	scripts/e2e

# The service's packages run once, under the race detector, in make test.
RACE_PKGS    = ./api/... ./ticket/... ./staff/... ./wechat/...
RACE_PKGS_RE = /huiyin/(api|ticket|staff|wechat)(/|$$)

race: ## the service's tests under the race detector
	$(GO) test -race -count=1 $(RACE_PKGS)

e2e: ## the console and owner page in headless Chromium (screenshots in .cache/e2e/artifacts)
	scripts/e2e

web-vendor: ## copy Chart.js from node_modules (the version pinned in package.json) into the console
	scripts/devdb install
	cp node_modules/chart.js/dist/chart.umd.min.js web/console/vendor/
	cp node_modules/chart.js/LICENSE.md web/console/vendor/chart.js-LICENSE.md

vet: ## gofmt check, go vet and staticcheck (pinned in go.mod as a tool)
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

fmt: ## format the code
	gofmt -w .

model: ## retrain the triage model from eval/testdata/triage_train.jsonl
	$(GO) run ./cmd/huiyin train --data eval/testdata/triage_train.jsonl --out triage/model.json.gz

eval: build ## score triage on the held-out split and the real-world set
	./$(BIN) eval triage eval/testdata/triage_heldout.jsonl
	./$(BIN) eval triage ../shared/realworld/complaints.jsonl

bench: ## segmentation and triage benchmarks
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./triage/ ./knowledge/

fuzz: ## run every fuzz test for FUZZTIME each (default 10s; make test runs 10000x, a count)
	scripts/fuzz

# Open-loop load against a running server, e.g. in one shell
#   make build && export DATABASE_URL="$(scripts/devdb start)" && HUIYIN_INTAKE_PER_MIN=1000000 ./bin/huiyin serve
# and in another `make load` (LOAD_URL for another server, LOAD_ARGS for more
# flags, e.g. LOAD_ARGS="-json -max-p99 250ms -max-error-rate 0.01" to gate CI).
# The raised per-client intake limit is needed, or 200 req/s from one address
# mostly measures 429s.
LOAD_URL  ?= http://127.0.0.1:8080
LOAD_ARGS ?=

load: ## open-loop intake load, 200 req/s for 20s, on the server at LOAD_URL (start `huiyin serve` first)
	$(GO) build -trimpath -o bin/huiyin-load ./cmd/huiyin-load
	./bin/huiyin-load -url $(LOAD_URL) -scenario intake -rate 200 -duration 20s $(LOAD_ARGS)

loadtest: ## intake, chat and console-queue load on a fresh server and database, with memory (docs/performance.md)
	scripts/loadtest

db: ## start the development database (PGlite) and print its DATABASE_URL
	@scripts/devdb start

db-stop: ## stop the development database
	@scripts/devdb stop

clean: ## remove build output
	rm -rf bin
