# pilotsync Makefile.
#
#   make run        run the jobs locally against the local stack and the in-memory
#                   HubSpot/Userpilot (or the real ones when HUBSPOT_TOKEN /
#                   USERPILOT_API_KEY are set); RUN_ARGS=--once for one cycle
#   make test       vet, format check, every test with -race against the local
#                   emulators (PILOTSYNC_REQUIRE_EMULATORS=1), cfn-lint. Starts the
#                   local stack when it is down and stops what it started (also on
#                   failure); a running stack is reused and left running
#   make build      build the three Lambda bootstraps (what `sam build` calls per function)
#   make stack-up / stack-down / stack-status   the local AWS stack (scripts/stack.sh)
#   make bench      paired Go benchmarks (needs the stack): each measured path runs
#                   next to a baseline in the same run (raw BatchWriteItem, csv.Reader,
#                   bare net/http); scripts/benchratio prints the ratios. A few minutes
#   make soak       long runs kept out of make test and CI (PILOTSYNC_SOAK=1, the one
#                   switch): the 1,000,000-row import, the 30 s HubSpot pacing run,
#                   the 100k-contact sandbox benchmarks, the 200,000-profile daily
#                   measured pass (needs the stack)
#   make lint       vet, format check, cfn-lint
#   make mutate     mutation testing (not in make test or CI): installs gremlins at
#                   GREMLINS_VERSION and runs it over the engine packages one at a
#                   time, one worker; scripts/mutuncov runs the mutants gremlins cannot
#                   (switch cases, constants); prints each package's score with and
#                   without the equivalent mutants of scripts/mutants-equivalent.tsv
#                   (scripts/mutate.sh, scripts/mutscore); MUTATE_PKGS=shared/inbound
#                   for some. The store and hubspot packages need the stack and take hours
#   make schema     regenerate integration.schema.json from the config types
#
# sam build runs `make build-<LogicalId> ARTIFACTS_DIR=...` for each function
# (template.yaml: CodeUri: ., BuildMethod: makefile).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go

# The config packaged into every function artifact (read at /var/task/integration.yaml).
CONFIG ?= integration.yaml
# Where `make build` puts the bootstraps when sam does not say.
ARTIFACTS_DIR ?= $(CURDIR)/bin

# Local stack endpoints (scripts/stack.sh uses the same ports). The AWS SDK reads
# these itself: there are no pilotsync-specific endpoint variables.
DYNAMODB_PORT ?= $(or $(PILOTSYNC_DYNAMODB_PORT),8000)
SQS_PORT ?= $(or $(PILOTSYNC_SQS_PORT),5000)
SES_PORT ?= $(or $(PILOTSYNC_SES_PORT),8005)
EMULATOR_ENV := \
	AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$(DYNAMODB_PORT) \
	AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$(SQS_PORT) \
	AWS_ENDPOINT_URL_SES=http://127.0.0.1:$(SES_PORT) \
	AWS_REGION=$${AWS_REGION:-us-east-1} \
	AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-test} \
	AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-test}

TEST_TIMEOUT ?= 12m
# TEST_P is how many test binaries run at once (go test -p; its default is
# the number of CPUs). Many packages also wait (on invocation deadlines,
# leases, stalled proxies), so on 2 cores 4 at once keeps both busier: on an
# idle machine the test phase took 292 s instead of 310 s with 2.
TEST_P ?= 4
RUN_ARGS ?=

.PHONY: build build-PollFunction build-DailyMeasuredFunction build-ActivityFunction \
	test test-on-stack vet fmt-check cfn-lint lint run bench soak mutate schema stack-up stack-down stack-status clean

# build_function builds ./functions/$(1) as $(ARTIFACTS_DIR)/bootstrap for Lambda
# (arm64, no cgo, no RPC shim) and packages the integration config next to it.
define build_function
	mkdir -p "$(ARTIFACTS_DIR)"
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -trimpath -tags lambda.norpc -ldflags='-s -w' \
		-o "$(ARTIFACTS_DIR)/bootstrap" ./functions/$(1)
	if [ -f "$(CONFIG)" ]; then \
		cp "$(CONFIG)" "$(ARTIFACTS_DIR)/integration.yaml"; \
	else \
		echo "WARNING: $(CONFIG) not found: $(1) is packaged without a config and will refuse to start." >&2; \
		echo "         Copy integration.example.yaml to integration.yaml, edit it, and build again." >&2; \
	fi
endef

build-PollFunction:
	$(call build_function,poll)

build-DailyMeasuredFunction:
	$(call build_function,daily-measured)

build-ActivityFunction:
	$(call build_function,activity)

# build puts each function's artifact in its own directory, as sam build does.
build:
	$(MAKE) --no-print-directory build-PollFunction ARTIFACTS_DIR=$(ARTIFACTS_DIR)/PollFunction
	$(MAKE) --no-print-directory build-DailyMeasuredFunction ARTIFACTS_DIR=$(ARTIFACTS_DIR)/DailyMeasuredFunction
	$(MAKE) --no-print-directory build-ActivityFunction ARTIFACTS_DIR=$(ARTIFACTS_DIR)/ActivityFunction

# vet uses the test build's flags (-race), so `make test` compiles every
# package once: go test then reuses vet's compiled dependencies and skips its
# own vet pass (-vet=off), which checks a subset of what vet just checked.
TEST_BUILD_FLAGS ?= -race
vet:
	$(GO) vet $(TEST_BUILD_FLAGS) ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.stack/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

cfn-lint:
	cfn-lint -t template.yaml

lint: vet fmt-check cfn-lint

# test starts the local stack when it is not running (installing what it
# needs), runs every test, and stops what it started, also on failure
# (scripts/with-stack.sh); a stack already up is reused and left running.
test: vet fmt-check
	scripts/with-stack.sh $(MAKE) --no-print-directory test-on-stack

# test-on-stack runs the tests against a stack that is already up.
test-on-stack:
	$(EMULATOR_ENV) PILOTSYNC_REQUIRE_EMULATORS=1 $(GO) test $(TEST_BUILD_FLAGS) -p $(TEST_P) -vet=off -timeout $(TEST_TIMEOUT) ./...
	cfn-lint -t template.yaml

run: stack-up
	$(EMULATOR_ENV) $(GO) run ./cmd/pilotsync run $(RUN_ARGS)

# bench runs the packages whose benchmarks pair pilotsync with a baseline
# measured in the same run ("baseline_..." sub-benchmarks, or an x-... ratio
# metric); scripts/benchratio echoes the output and prints the ratio table.
# Ratios, not absolute times, are what to compare between machines and runs.
BENCH_PKGS ?= ./shared/activity ./shared/store ./shared/profileimport ./shared/hubspot ./shared/userpilot
BENCH_COUNT ?= 5
BENCH_TIME ?= 1s
bench:
	@scripts/stack.sh status >/dev/null || { echo "make bench: the store benchmarks need the local stack: make stack-up" >&2; exit 1; }
	$(EMULATOR_ENV) PILOTSYNC_REQUIRE_EMULATORS=1 $(GO) test -run '^$$' -bench . -benchmem \
		-count $(BENCH_COUNT) -benchtime $(BENCH_TIME) -timeout 15m $(BENCH_PKGS) 2>&1 | $(GO) run ./scripts/benchratio

# soak runs what is too slow for make test: each step takes from tens of
# seconds to a few minutes; only the measured pass needs the stack (started
# and stopped as make test does).
soak:
	PILOTSYNC_SOAK=1 $(GO) test -race -count 1 -timeout 20m -run '^TestImportMillionRows$$' -v ./shared/profileimport
	PILOTSYNC_SOAK=1 $(GO) test -count 1 -timeout 10m -run '^TestSandboxPacing$$' -v ./shared/hubspot
	$(GO) test -run '^$$' -bench . -benchmem -timeout 20m ./shared/hubspot/hubspottest
	scripts/with-stack.sh env $(EMULATOR_ENV) PILOTSYNC_REQUIRE_EMULATORS=1 PILOTSYNC_SOAK=1 \
		$(GO) test -race -count 1 -timeout 30m -run '^TestMeasuredResumesAcrossInvocations$$' -v ./shared/handler

# mutate installs the pinned gremlins into bin/tools (never committed) and
# runs scripts/mutate.sh against the local stack (the store's tests need it).
GREMLINS_VERSION ?= v0.6.0
MUTATE_PKGS ?=
mutate:
	GOBIN="$(CURDIR)/bin/tools" $(GO) install github.com/go-gremlins/gremlins/cmd/gremlins@$(GREMLINS_VERSION)
	scripts/with-stack.sh env $(EMULATOR_ENV) PILOTSYNC_REQUIRE_EMULATORS=1 \
		GREMLINS="$(CURDIR)/bin/tools/gremlins" scripts/mutate.sh $(MUTATE_PKGS)

schema:
	@if [ -d shared/config/cmd/genschema ]; then $(GO) generate ./shared/config && echo "wrote integration.schema.json"; \
	else echo "make schema: shared/config/cmd/genschema does not exist yet" >&2; exit 1; fi

stack-up:
	@scripts/stack.sh up >/dev/null

stack-down:
	@scripts/stack.sh down

stack-status:
	@scripts/stack.sh status

clean:
	rm -rf bin .aws-sam
