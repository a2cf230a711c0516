# huiyin — common tasks. `make help` lists them.

GO      ?= go
BIN     := bin/huiyin
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: help build run test vet fmt model eval bench fuzz clean db db-stop

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

build: ## build bin/huiyin (trimmed paths: the binary carries its dictionaries and model)
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/huiyin

run: build ## build, start the dev database, load the knowledge base, then triage, answer and draft samples
	./$(BIN) triage "3栋2单元1502电梯困人了，快来！"
	./$(BIN) triage --jsonl < examples/messages.jsonl
	export DATABASE_URL="$$(scripts/devdb start)" && \
	  ./$(BIN) ingest && \
	  ./$(BIN) ask "管理费可以用微信交吗" && \
	  ./$(BIN) ask "红烧肉怎么做才好吃" && \
	  ./$(BIN) ask --jsonl < examples/questions.jsonl && \
	  ./$(BIN) draft "楼上每天半夜拖椅子，说了三次了还是这样" && \
	  ./$(BIN) draft --jsonl < examples/messages.jsonl > /dev/null && echo "drafts for examples/messages.jsonl: ok"

test: vet ## vet and run every test
	$(GO) test -count=1 ./...

vet: ## gofmt check and go vet
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet ./...

fmt: ## format the code
	gofmt -w .

model: ## retrain the triage model from eval/testdata/triage_train.jsonl
	$(GO) run ./cmd/huiyin train --data eval/testdata/triage_train.jsonl --out triage/model.json.gz

eval: build ## score triage on the held-out split and the real-world set
	./$(BIN) eval triage eval/testdata/triage_heldout.jsonl
	./$(BIN) eval triage ../shared/realworld/complaints.jsonl

bench: ## segmentation and triage benchmarks
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./triage/ ./knowledge/

fuzz: ## run each fuzz test for a short while
	$(GO) test -run '^$$' -fuzz FuzzExtractLocation -fuzztime 20s ./triage/
	$(GO) test -run '^$$' -fuzz FuzzClean -fuzztime 20s ./triage/
	$(GO) test -run '^$$' -fuzz 'FuzzTriage$$' -fuzztime 20s ./triage/
	$(GO) test -run '^$$' -fuzz FuzzTriageLine -fuzztime 20s ./cmd/huiyin/

db: ## start the development database (PGlite) and print its DATABASE_URL
	@scripts/devdb start

db-stop: ## stop the development database
	@scripts/devdb stop

clean: ## remove build output
	rm -rf bin
