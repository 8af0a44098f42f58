# parley: one non-recursive Makefile; objects under $(BUILD)/.
#
#   make            build build/parleyd, build/parley, build/parley-bench,
#                   build/wakecost
#   make run        build and start parleyd with its defaults (port 5050)
#   make test       build and run every unit and integration test
#   make asan       the same tests under AddressSanitizer + UBSan (build-asan/)
#   make bench      the short standard benchmark matrix
#   make format     clang-format every source file
#   make lint       clang-tidy and cppcheck

CC      ?= cc
BUILD   ?= build
VERSION := 0.1.0

WARN    := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2 -Wvla
OPT     ?= -O2 -g
CFLAGS  ?=
CFLAGS  += $(OPT) -std=c11 -D_GNU_SOURCE $(WARN) -Isrc -DPARLEY_VERSION='"$(VERSION)"' \
	   -MMD -MP
LDFLAGS ?=
LDLIBS  := -lpthread -lm -lcrypt

ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC    := $(wildcard src/lib/*.c)
SERVER_SRC := $(filter-out src/server/parleyd.c,$(wildcard src/server/*.c))
CLIENT_SRC := $(wildcard src/client/*.c)
BENCH_SRC  := $(wildcard src/bench/*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIB_OBJ    := $(call obj,$(LIB_SRC))
SERVER_OBJ := $(call obj,$(SERVER_SRC))

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
INTEG_SRC := $(wildcard tests/integration/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
INTEG_BIN := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(INTEG_SRC))

BINS := $(BUILD)/parleyd $(BUILD)/parley $(BUILD)/parley-bench \
	$(BUILD)/wakecost

.PHONY: all run test unit integration asan bench format lint clean fuzz \
	fuzz-run
all: $(BINS)

# What the build needs from Debian's packages, installed once if missing
# (tools/deps.sh says what it installs); the stamp keeps it to one check.
$(BUILD)/.deps: tools/deps.sh
	@mkdir -p $(BUILD)
	@sh tools/deps.sh build
	@touch $@

$(BUILD)/%.o: %.c | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/parleyd: $(BUILD)/src/server/parleyd.o $(SERVER_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/parley: $(call obj,$(CLIENT_SRC)) $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/parley-bench: $(call obj,$(BENCH_SRC)) $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# What one process wake-up costs here (BENCHMARKS.md).
$(BUILD)/wakecost: $(BUILD)/src/tools/wakecost.o
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# Unit tests link the pure modules; a test_<name>.c may use any of them.
$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/tests/testlib.o \
		$(SERVER_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/integration/%: $(BUILD)/tests/integration/%.o \
		$(BUILD)/tests/testlib.o $(BUILD)/tests/mesh.o \
		$(BUILD)/tests/irc.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

run: $(BUILD)/parleyd
	$(BUILD)/parleyd

# Every test binary prints "NAME: N passed, N failed"; tests/run.sh adds the
# totals and fails if any binary failed.
test: $(BINS) $(UNIT_BIN) $(INTEG_BIN)
	@sh tools/deps.sh test
	@PARLEY_BUILD=$(BUILD) sh tests/run.sh $(UNIT_BIN) $(INTEG_BIN)

unit: $(UNIT_BIN)
	@PARLEY_BUILD=$(BUILD) sh tests/run.sh $(UNIT_BIN)

integration: $(BINS) $(INTEG_BIN)
	@PARLEY_BUILD=$(BUILD) sh tests/run.sh $(INTEG_BIN)

asan:
	$(MAKE) BUILD=build-asan SAN=1 OPT='-O1 -g' test

# libFuzzer targets (clang): each runs FUZZ_SECONDS on its corpus in
# tests/fuzz/corpus/NAME; crashes are written to build-fuzz/crashes/.
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 20

fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang \
		OPT='-O1 -g -fsanitize=fuzzer-no-link,address,undefined' fuzz-run

fuzz-run: $(FUZZ_BIN)
	sh tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS) $(FUZZ_BIN)

$(BUILD)/tests/fuzz/%: $(BUILD)/tests/fuzz/%.o $(SERVER_OBJ) $(LIB_OBJ)
	$(CC) -fsanitize=fuzzer,address,undefined $^ -o $@ $(LDLIBS)

bench: $(BINS)
	sh bench/standard.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

lint:
	clang-tidy --quiet $$(git ls-files 'src/*.c') -- $(filter-out -MMD -MP,$(CFLAGS))
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -Isrc -D_GNU_SOURCE src

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
