# Thin wrapper over CMake. `make run` and `make test` install what they need first.
BUILD      ?= build
TEST_BUILD ?= build/asan
JOBS       ?= $(shell nproc)
ARGS       ?=

.PHONY: all build run test deps clean bench fuzz

all: build

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

deps:
	./scripts/deps.sh

run: deps build
	./$(BUILD)/pierd $(ARGS)

# Strict, sanitized build; every test (unit + integration against a real pierd).
test: deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPIER_WERROR=ON -DPIER_SANITIZE=ON >/dev/null
	cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure --timeout 300 -j 2

bench fuzz:
	@echo "make $@: not built yet (see the open issues)"; exit 1

clean:
	rm -rf $(BUILD)
