# Overparam: `make run` (the digits demo) and `make test` (the test suite). Both install what is missing.
SWIFT ?= swift
RELEASE = -c release
BIN = .build/release/overparam
export OPENBLAS_NUM_THREADS ?= 2

.PHONY: deps build run test bench clean

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build $(RELEASE) --product overparam

run: build
	$(BIN) digits --out out/digits

test: deps
	$(SWIFT) build $(RELEASE) --product overparam
	$(SWIFT) test $(RELEASE) -Xswiftc -enable-testing

bench: build
	@bash bench/run.sh

clean:
	rm -rf .build out
