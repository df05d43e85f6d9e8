# Portwarden — the two commands for a fresh machine are `make demo` and `make test`.
# Everything else here is a building block of those two, or a separate long-running job
# (bench, fuzz-long) that the test suite does not run.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
CACHE ?= $(CURDIR)/.cache
PW := build/release/src/app/portwarden
FUZZ_SECONDS ?= 600

.PHONY: all deps build debug asan test test-release test-asan fuzz-build fuzz-smoke fuzz-long \
        corpus demo bench clean

all: build

deps:
	scripts/install-deps

build: deps
	cmake --preset release -DPW_CORPUS_CACHE=$(CACHE) >/dev/null
	cmake --build --preset release -j $(JOBS)

debug: deps
	cmake --preset debug >/dev/null
	cmake --build --preset debug -j $(JOBS)

asan: deps
	cmake --preset asan-ubsan -DPW_CORPUS_CACHE=$(CACHE) >/dev/null
	cmake --build --preset asan-ubsan -j $(JOBS)

test-release: build corpus web
	ctest --preset release

test-asan: asan corpus web
	ctest --preset asan-ubsan

# Builds the libFuzzer targets with clang and runs each for a short while (replaying its corpus).
fuzz-build: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)

fuzz-smoke: fuzz-build
	scripts/run-fuzz 20

# The long fuzzing run the robustness bar asks for; not part of `make test`.
fuzz-long: fuzz-build
	scripts/run-fuzz $(FUZZ_SECONDS)

test: test-release test-asan fuzz-smoke

corpus:
	scripts/fetch-corpus $(CACHE)

demo: build corpus web
	scripts/demo $(CACHE)

# Accuracy and speed against the peer filters on split A, then the classifier's own speed and
# memory; rewrites the tables in BENCHMARKS.md. Takes about 10 minutes (SpamAssassin is slow).
bench: build corpus
	scripts/install-deps --with-peers
	bench/split-a.sh $(CACHE)
	bench/speed.sh $(CACHE)
	bench/relay.sh $(CACHE)
	bench/campaigns.sh $(CACHE)

# Issue 3's relay bars alone: Postfix bare vs with Portwarden vs with rspamd, plus the behaviour
# engine's speed and memory; rewrites the relay section of BENCHMARKS.md. Needs root; about 4 minutes.
.PHONY: relay-bench
relay-bench: build
	scripts/install-deps --with-peers
	bench/relay.sh $(CACHE)

# Issue 4's campaign-detection bars alone: mutated corpus spam campaigns and corpus ham through the
# fingerprinter and tracker (recall, false merges, speed, memory, per-mutation recall); rewrites the
# campaigns section of BENCHMARKS.md. About 5 minutes.
.PHONY: campaigns-bench
campaigns-bench: build corpus
	bench/campaigns.sh $(CACHE)

# Issue 5's detection scorecard on the reporting seeds (100-104) plus the 1M-subscriber speed run;
# rewrites docs/SCORECARD.md. About 25 minutes.
.PHONY: scorecard
scorecard: build corpus
	bench/scorecard.sh $(CACHE)

# The abuse desk's static files (web/src + uPlot from npm) into web/dist, served under /desk/.
.PHONY: web
web: deps
	web/build.sh

# Issue 6's case-list bar end to end: the first page of GET /api/v1/cases from `portwarden serve` with
# 100,000 cases in the ledger, 50 requests timed by curl (median, p95). Prints; writes nothing. ~15 s.
.PHONY: bench-desk
bench-desk: build
	PW=$(PW) bench/desk_http_bench.sh 100000 50

clean:
	rm -rf build
