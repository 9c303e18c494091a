# Overparam: `make run` (digits demo + quick reproduction of every experiment) and `make test` (all tests).
# Both install what is missing (apt-get) and build in release mode.
SWIFT ?= swift
# One set of flags for the tool and the tests, so `make test` builds once (tests use @testable import).
RELEASE = -c release -Xswiftc -enable-testing
BIN = .build/release/overparam
REPORT ?= overparam-report

.PHONY: deps build run test test-cli check-report bench clean

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build $(RELEASE) --product overparam

run: build
	$(BIN) digits --out out/digits
	@echo
	$(BIN) reproduce --all --preset quick --out $(REPORT)
	@echo
	@echo "Open $(REPORT)/index.html in a browser (figures and CSV data are in $(REPORT)/<experiment>/)."

# End-to-end CLI checks (errors, kill -9 resume, shards + merge, report in headless Chromium), then the Swift tests.
test: build
	bash scripts/test-cli.sh
	$(SWIFT) test $(RELEASE)

test-cli: build
	bash scripts/test-cli.sh

check-report: build
	bash scripts/check-report.sh $(REPORT)

bench: build
	@bash bench/run.sh

clean:
	rm -rf .build out $(REPORT)
