# Mores — see README.md.
GO ?= go
BIN ?= bin/mores

.PHONY: build test demo bench lint train-harm clean setup

build:
	$(GO) build -o $(BIN) ./cmd/mores

# The test command of the README: installs what the tests need (Chromium,
# the DuckDB Node.js reader), then runs every test.
test: setup
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

setup:
	bash .ci/setup

# The built-in quickstart on simulated models, offline.
demo:
	$(GO) run ./cmd/mores run

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./bench/... ./judges/... ./reports/...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

# Retrain the offline harm judge's embedded weights (deterministic).
train-harm:
	$(GO) run ./judges/harm/train -out judges/harm/model.bin

clean:
	rm -rf bin runs
