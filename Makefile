# Thin wrapper over CMake. `make run` and `make test` install what they need first.
BUILD      ?= build
TEST_BUILD ?= build/asan
JOBS       ?= $(shell nproc)
ARGS       ?=

.PHONY: all build run test deps node-deps clean bench fuzz tsan install cluster bench-cluster

all: build

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPIER_SANITIZE=OFF -DPIER_FUZZ=OFF >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

deps:
	./scripts/deps.sh

node-deps:
	@command -v node >/dev/null && command -v npm >/dev/null || \
		{ echo "make test: node and npm are needed (tests/node: tus-js-client, playwright-core for tests/e2e)" >&2; exit 1; }
	@if [ ! -f tests/node/node_modules/.package-lock.json ] || \
	    [ tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]; then \
		npm ci --prefix tests/node --no-audit --no-fund; fi

# Installs pierd, pier and (when GTK 4 is present) pier-gtk with its desktop file, SVG icon
# and translations under $(PREFIX) (default /usr/local); DESTDIR stages it for packaging.
PREFIX ?= /usr/local
install: build
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

run: deps build
	./$(BUILD)/pierd $(ARGS)

# Strict, sanitized build; every test (unit + integration against a real pierd), then the
# same under ThreadSanitizer (make tsan). The tus test runs the real tus-js-client and
# tests/e2e drive Debian's chromium with playwright-core: `npm ci` in tests/node when its
# lock file is newer than the install. Screenshots: $(TEST_BUILD)/screenshots.
# The optimised build is compiled with -Werror too: -O2 finds warnings (uninitialised use,
# truncation) that the Debug build does not.
STRICT_BUILD ?= build/strict
test: deps node-deps
	cmake -S . -B $(STRICT_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPIER_WERROR=ON -DPIER_SANITIZE=OFF >/dev/null
	cmake --build $(STRICT_BUILD) -j $(JOBS)
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPIER_WERROR=ON -DPIER_SANITIZE=ON >/dev/null
	cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure --timeout 300 -j 2
	$(MAKE) --no-print-directory tsan

# ThreadSanitizer: a build of its own ($(TSAN_BUILD), gcc's -fsanitize=thread, which cannot
# share a process with the AddressSanitizer of the test build) and every unit, integration
# and adversarial test against its pierd: the loop, the store thread and libuv's pool (media
# files, password hashing) under load. Not the browser tests (the same server paths, slower)
# nor the corpus replays (pure parsers, one thread), nor pier-gtk's tests (GLib and GTK are
# not instrumented: TSan cannot see their locks and GTask's hand-overs and would report races
# that are none; PIER_GTK=OFF keeps the TSan build from compiling it). A race fails the test that met it: a
# test program exits 66, a pierd's log has "WARNING: ThreadSanitizer" (tests/integration/
# harness.c). Part of `make test`: about 70 s on 2 cores, build included.
TSAN_BUILD ?= build/tsan
tsan: deps node-deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPIER_WERROR=ON -DPIER_SANITIZE=OFF \
		-DPIER_FUZZ=OFF -DPIER_TSAN=ON -DPIER_GTK=OFF >/dev/null
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	cd $(TSAN_BUILD) && TSAN_OPTIONS="second_deadlock_stack=1 $$TSAN_OPTIONS" \
		ctest --output-on-failure --timeout 300 -j 2 -E '^(e2e|fuzz|gtk|pg|cluster)/'

# A local 3-node cluster to try (docs/CLUSTER.md): PostgreSQL, three nats-server, three pierd
# on one shared media directory and HAProxy in front on ports 6666 (JSON) and 8080 (HTTP);
# data and logs under ./data/cluster (CLUSTER_DIR). Ctrl-C stops it all.
cluster: deps build
	BUILD=$(BUILD) ./scripts/cluster/run.sh

# The benchmark suite (pier-bench --help): the normal build; results in $(BUILD)/bench.
# Bounded in time (pier-bench --help: each scenario has its own limit); ends with every
# target (issue 13) met or not met and the fdatasync floor of the run.
bench: deps build
	./$(BUILD)/pier-bench --pierd ./$(BUILD)/pierd --out $(BUILD)/bench

# pier-bench against a 3-node cluster through HAProxy vs one pierd on SQLite and on PostgreSQL
# (scripts/bench-cluster.sh): a 1000-member room's deliveries/s and p99, acked private msgs/s.
bench-cluster: deps build
	BUILD=$(BUILD) ./scripts/bench-cluster.sh

# libFuzzer harnesses (clang): every fuzz/fuzz_NAME.c, each run for FUZZ_SECONDS on its seed
# corpus in fuzz/corpus/NAME (new finds go to $(FUZZ_BUILD)/corpus/NAME). FUZZERS="a b" picks.
# `make test` replays every checked-in corpus (the fuzz/NAME ctest tests).
FUZZ_BUILD   ?= build/fuzz
FUZZ_SECONDS ?= 30
FUZZ_MAX_LEN ?= 8192
FUZZERS      ?= $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
fuzz:
	./scripts/deps.sh clang
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPIER_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZERS))
	for f in $(FUZZERS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$f && \
		./$(FUZZ_BUILD)/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
			$(FUZZ_BUILD)/corpus/$$f fuzz/corpus/$$f || exit 1; \
	done

clean:
	rm -rf $(BUILD)
