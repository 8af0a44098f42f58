# parley: one non-recursive Makefile; objects under $(BUILD)/.
#
#   make            build build/parleyd, build/parley, build/parley-bench,
#                   build/wakecost, build/storebench
#   make run        build and start parleyd with its defaults (port 5050)
#   make cert       a self-signed cert.pem and key.pem for localhost
#   make test       build and run every unit and integration test, and
#                   the web client in headless Chromium
#   make asan       the same tests under AddressSanitizer + UBSan (build-asan/)
#   make bench      the short standard benchmark matrix
#   make format     clang-format every source file
#   make lint       clang-tidy and cppcheck
#   make install    binaries, man pages, the systemd unit and a default
#                   config under PREFIX (/usr/local), DESTDIR honoured
#   make uninstall  removes exactly what install installed
#   make conf       regenerates etc/parleyd.conf from the options table

CC      ?= cc
BUILD   ?= build
VERSION := 0.1.0

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DESTDIR    ?=

WARN    := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2 -Wvla
OPT     ?= -O2 -g
CFLAGS  ?=
CFLAGS  += $(OPT) -std=c11 -D_GNU_SOURCE $(WARN) -Isrc -DPARLEY_VERSION='"$(VERSION)"' \
	   -MMD -MP
LDFLAGS ?=
LDLIBS  := -lssl -lcrypto -lsqlite3 -lcrypt -lpthread -lm

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

# The web client (web/) is built into parleyd: src/tools/embed.c writes
# its files into a C table at build time (no tool for users to install).
WEB_SRC := $(sort $(wildcard web/*.html web/*.css web/*.js web/*.svg))
WEB_GEN := $(BUILD)/gen/web_assets.c

LIB_OBJ    := $(call obj,$(LIB_SRC))
SERVER_OBJ := $(call obj,$(SERVER_SRC)) $(BUILD)/gen/web_assets.o

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
# Shell tests of what is outside the binaries: install, man pages, unit.
SCRIPT_TESTS := $(wildcard tests/scripts/test_*.sh)
INTEG_SRC := $(wildcard tests/integration/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
INTEG_BIN := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(INTEG_SRC))

BINS := $(BUILD)/parleyd $(BUILD)/parley $(BUILD)/parley-bench \
	$(BUILD)/wakecost $(BUILD)/storebench

.PHONY: all run cert test unit integration asan bench format lint clean \
	fuzz fuzz-run conf install uninstall
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

# A host tool, built without the sanitizers of asan and fuzz builds.
$(BUILD)/embed: src/tools/embed.c | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) -O1 -std=c11 -D_GNU_SOURCE $(WARN) $< -o $@

$(WEB_GEN): $(BUILD)/embed $(WEB_SRC)
	@mkdir -p $(dir $@)
	$(BUILD)/embed $@ $(WEB_SRC)

$(BUILD)/gen/web_assets.o: $(WEB_GEN)
	$(CC) $(CFLAGS) -c $< -o $@

# What one process wake-up costs here (BENCHMARKS.md).
$(BUILD)/wakecost: $(BUILD)/src/tools/wakecost.o
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# The store's archiving rate and join latency (bench/store.sh).
$(BUILD)/storebench: $(BUILD)/src/tools/storebench.o
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# The default config file, made from the options table (a unit test fails
# when etc/parleyd.conf and the table disagree: run `make conf`).
$(BUILD)/confgen: $(BUILD)/src/tools/confgen.o $(SERVER_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

conf: $(BUILD)/confgen
	$(BUILD)/confgen > etc/parleyd.conf

# Unit tests link the pure modules; a test_<name>.c may use any of them.
$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/tests/testlib.o \
		$(SERVER_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/integration/%: $(BUILD)/tests/integration/%.o \
		$(BUILD)/tests/testlib.o $(BUILD)/tests/mesh.o \
		$(BUILD)/tests/tlslib.o $(BUILD)/tests/wslib.o $(BUILD)/tests/irc.o \
		$(BUILD)/tests/storelib.o \
		$(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# The protocol unit tests share a connection fixture.
$(BUILD)/tests/unit/test_proto_irc $(BUILD)/tests/unit/test_proto_plain \
		$(BUILD)/tests/unit/test_irc_ext: \
		$(BUILD)/tests/unit/protofix.o

# The sandbox test installs the sessions' filter itself.
$(BUILD)/tests/integration/test_sandbox: $(BUILD)/src/server/sandbox.o
# ... and the store's (test_store_sandbox).
$(BUILD)/tests/integration/test_store_sandbox: $(BUILD)/src/server/sandbox.o

run: $(BUILD)/parleyd
	$(BUILD)/parleyd

# A self-signed certificate for local use (README, TLS): cert.pem and
# key.pem for localhost, valid 30 days. Not for a server others use.
cert:
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days 30 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1 \
		-keyout key.pem -out cert.pem

# Every test binary prints "NAME: N passed, N failed"; tests/run.sh adds the
# totals and fails if any binary failed.
# tests/browser/run.sh drives the web client in headless Chromium.
BROWSER_TEST := tests/browser/run.sh

test: $(BINS) $(UNIT_BIN) $(INTEG_BIN)
	@sh tools/deps.sh test
	@PARLEY_BUILD=$(BUILD) sh tests/run.sh $(UNIT_BIN) $(INTEG_BIN) \
		$(SCRIPT_TESTS) $(BROWSER_TEST)

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

$(BUILD)/tests/fuzz/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/fuzzlib.o \
		$(SERVER_OBJ) $(LIB_OBJ)
	$(CC) -fsanitize=fuzzer,address,undefined $^ -o $@ $(LDLIBS)

bench: $(BINS)
	sh bench/standard.sh $(BUILD)

# What install puts where (uninstall removes exactly these). The config
# is installed only where there is none, and removed only if unchanged.
INSTALL_FILES := $(SBINDIR)/parleyd $(BINDIR)/parley \
	$(BINDIR)/parley-bench $(MANDIR)/man8/parleyd.8 \
	$(MANDIR)/man1/parley.1 $(MANDIR)/man1/parley-bench.1 \
	$(UNITDIR)/parleyd.service

install: $(BUILD)/parleyd $(BUILD)/parley $(BUILD)/parley-bench
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)
	install -m 755 $(BUILD)/parleyd $(DESTDIR)$(SBINDIR)/parleyd
	install -m 755 $(BUILD)/parley $(BUILD)/parley-bench $(DESTDIR)$(BINDIR)
	install -m 644 man/parleyd.8 $(DESTDIR)$(MANDIR)/man8
	install -m 644 man/parley.1 man/parley-bench.1 $(DESTDIR)$(MANDIR)/man1
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		systemd/parleyd.service.in > $(DESTDIR)$(UNITDIR)/parleyd.service
	chmod 644 $(DESTDIR)$(UNITDIR)/parleyd.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/parleyd.conf ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/parleyd.conf"; \
	else \
		echo "install -m 644 etc/parleyd.conf $(DESTDIR)$(SYSCONFDIR)"; \
		install -m 644 etc/parleyd.conf $(DESTDIR)$(SYSCONFDIR); \
	fi

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALL_FILES))
	@if cmp -s etc/parleyd.conf $(DESTDIR)$(SYSCONFDIR)/parleyd.conf; then \
		echo "rm -f $(DESTDIR)$(SYSCONFDIR)/parleyd.conf"; \
		rm -f $(DESTDIR)$(SYSCONFDIR)/parleyd.conf; \
	elif [ -e $(DESTDIR)$(SYSCONFDIR)/parleyd.conf ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/parleyd.conf: it was changed"; \
	fi

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

lint:
	clang-tidy --quiet $$(git ls-files 'src/*.c') -- $(filter-out -MMD -MP,$(CFLAGS))
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -Isrc -D_GNU_SOURCE src

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
