# sluice — the two commands users need (`make run`, `make test`) and a few for developers.
# Everything goes through CMake; this file only names the steps.
#
#   make run     install missing Debian packages, build, start a server on :8086 with data in ./data
#   make test    the same set-up, then every test: unit, fuzz-corpus replay, end-to-end, and the
#                unit and replay tests again under ASan+UBSan
#   make bench   benchmarks against InfluxDB 1.6 and VictoriaMetrics in the same run
#   make fuzz    run each libFuzzer target for FUZZ_SECONDS (default 60)
#   make format  clang-format the tree

JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
BUILD       ?= build
ASAN_BUILD  ?= build-asan
FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?= 60
DATA_DIR    ?= ./data
CTEST_ARGS  ?=

.PHONY: all build bootstrap run test test-unit test-asan bench fuzz format clean npm

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: bootstrap $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

npm:
	@scripts/npm-install

run: build
	@scripts/run-server $(BUILD)/sluice $(DATA_DIR)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON -DSLUICE_E2E=OFF

test: build npm
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)
	$(MAKE) --no-print-directory test-asan

test-asan: bootstrap $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS) -L 'unit|fuzz'

bench: build npm
	@bench/run-all $(BUILD)/sluice

$(FUZZ_BUILD)/CMakeCache.txt:
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSLUICE_FUZZ=ON -DSLUICE_E2E=OFF

fuzz: bootstrap $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@scripts/run-fuzzers $(FUZZ_BUILD) $(FUZZ_SECONDS)

format:
	find src include tests bench -name '*.[ch]' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
