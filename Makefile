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
	MORES_REQUIRE_ALL=1 $(GO) test -count=1 -timeout 30m ./...

setup:
	bash .ci/setup

# The built-in quickstart on simulated models, offline.
demo:
	$(GO) run ./cmd/mores run

# The performance harness (bench/perf): mores run against a minimal client
# and the ideal at 50 ms latency, a cached rerun of 100k trials, peak RSS at
# 10k/100k/1M trials, Parquet write rate, mores report on 1M trials. Prints a
# table and JSON, writes bin/bench.json. BENCH_QUICK=1 for small sizes;
# BENCH_FLAGS="-only zero,latency" for some measures.
bench:
	$(GO) build -o $(BIN) ./cmd/mores
	$(GO) build -o bin/perf ./bench/perf
	bin/perf -mores $(BIN) -json bin/bench.json $(BENCH_FLAGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

# Retrain the offline harm judge's embedded weights (deterministic).
train-harm:
	$(GO) run ./judges/harm/train -out judges/harm/model.bin

clean:
	rm -rf bin runs
