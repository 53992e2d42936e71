# tracefs — build, test and demo targets. `make help` lists them.

CC      ?= cc
PKGS    := fuse3 sqlite3 cairo libwebsockets
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
           -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

BUILD   ?= build
TRACEFS_SRC  := $(wildcard tracefs/*.c)
RECORDER_SRC := $(wildcard recorder/*.c)
VIZ_SRC      := $(wildcard viz/*.c)
PLAY_SRC     := $(wildcard play/*.c)
RENDER_SRC   := $(wildcard render/*.c)
WEB_SRC      := $(wildcard web/*.c)
PROGRAM_SRC  := $(TRACEFS_SRC) $(RECORDER_SRC) $(VIZ_SRC) $(PLAY_SRC) $(RENDER_SRC) $(WEB_SRC)
HEADERS      := $(wildcard */*.h)
UNIT_SRC     := $(wildcard tests/unit/*.c)
TOOL_SRC     := $(wildcard tests/tools/*.c)

UNIT_BIN      := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
UNIT_ASAN_BIN := $(patsubst tests/unit/%.c,$(BUILD)/unit-asan/%,$(UNIT_SRC))
TOOL_BIN      := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))

.PHONY: all deps browser-deps check test-deps demo clean help bench

all: $(BUILD)/tracefs

$(BUILD)/tracefs: $(PROGRAM_SRC) $(HEADERS) | $(BUILD)
	$(CC) $(CFLAGS) -o $@ $(PROGRAM_SRC) $(LDLIBS)

# The sanitizer build of the daemon, used by the integration tests.
$(BUILD)/tracefs-asan: $(PROGRAM_SRC) $(HEADERS) | $(BUILD)
	$(CC) $(CFLAGS) $(SAN) -o $@ $(PROGRAM_SRC) $(LDLIBS)

# The browser page: web/page/ copied to $(BUILD)/web/, which the server
# serves from next to the tracefs binary, with the scene model (viz/ but the
# cairo drawing) compiled to WebAssembly for it.
WASM_CC    ?= clang
WASM_SRC   := $(VIZ_SRC) web/page/viz_wasm.c
WASM_FLAGS := --target=wasm32 -ffreestanding -nostdlib -O2 -std=gnu11 -Wall -Wextra -Werror \
              -fvisibility=hidden -I. -Wl,--no-entry -Wl,--export-dynamic \
              -Wl,-z,stack-size=1048576 -Wl,--stack-first -Wl,--max-memory=2147483648
PAGE_FILES := $(addprefix $(BUILD)/web/,index.html app.js style.css viz.wasm)

all: $(PAGE_FILES)
$(BUILD)/tracefs-asan: | $(PAGE_FILES)

$(BUILD)/web/viz.wasm: $(WASM_SRC) $(wildcard viz/*.h) recorder/names.h | $(BUILD)
	@mkdir -p $(dir $@)
	$(WASM_CC) $(WASM_FLAGS) -o $@ $(WASM_SRC)

$(BUILD)/web/%: web/page/% | $(BUILD)
	@mkdir -p $(dir $@)
	cp $< $@

# Unit tests link the modules that have no FUSE in them.
UNIT_LINK := $(RECORDER_SRC) $(VIZ_SRC) $(PLAY_SRC) $(RENDER_SRC) $(WEB_SRC)
$(BUILD)/unit/%: tests/unit/%.c $(UNIT_LINK) $(HEADERS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(UNIT_LINK) $(LDLIBS)

$(BUILD)/unit-asan/%: tests/unit/%.c $(UNIT_LINK) $(HEADERS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -o $@ $< $(UNIT_LINK) $(LDLIBS)

# Test programs; they may use the recorder, which has no FUSE in it.
$(BUILD)/tools/%: tests/tools/%.c $(RECORDER_SRC) $(HEADERS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(RECORDER_SRC) $(LDLIBS)

# Benchmark tools link the recorder (tests/bench/recorder_bench.c: workload f).
BENCH_BIN := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(wildcard tests/bench/*.c))
$(BUILD)/bench/%: tests/bench/%.c $(RECORDER_SRC) $(HEADERS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(RECORDER_SRC) $(LDLIBS)

$(BUILD):
	mkdir -p $@

# Debian packages for building and for the tests. Idempotent: does nothing
# when everything is installed, so `make check` works offline afterwards.
DEB_BUILD := build-essential pkg-config libfuse3-dev fuse3 libsqlite3-dev sqlite3 libcairo2-dev \
             libwebsockets-dev clang lld
DEB_TEST  := valgrind sshfs openssh-server openssh-client attr util-linux psmisc chromium \
             ffmpeg gource xvfb xauth
deps:
	@missing=$$(for p in $(DEB_BUILD) $(DEB_TEST); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@$(MAKE) --no-print-directory browser-deps

# The browser tests drive Debian's chromium with playwright-core, pinned by
# tests/browser/package-lock.json. node_modules/.lock-sha256 records the lock
# it was installed from: npm runs only when that is missing or outdated, so
# `make check` needs no network once it has been installed. Node and npm come
# from Debian only when missing (another node's own npm would conflict).
BROWSER_DIR  := tests/browser
BROWSER_LOCK := $(BROWSER_DIR)/package-lock.json
BROWSER_STAMP := $(BROWSER_DIR)/node_modules/.lock-sha256
browser-deps:
	@want=$$(sha256sum $(BROWSER_LOCK) | cut -d' ' -f1); \
	if [ "$$(cat $(BROWSER_STAMP) 2>/dev/null)" != "$$want" ]; then \
	    echo "installing the browser tests' npm packages ($(BROWSER_LOCK))"; \
	    (cd $(BROWSER_DIR) && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) && \
	    echo "$$want" >$(BROWSER_STAMP); \
	fi

check: deps $(BUILD)/tracefs $(BUILD)/tracefs-asan $(PAGE_FILES) $(UNIT_BIN) $(UNIT_ASAN_BIN) $(TOOL_BIN)
	BUILD=$(BUILD) tests/run

demo: deps all
	tests/demo/first-workload

# tracefs against native, bindfs and loggedfs; BENCH_WORKLOADS, BENCH_RUNS,
# BENCH_QUICK: see tests/bench/run --help.
bench: deps $(BUILD)/tracefs $(BENCH_BIN) $(BUILD)/tools/ws_client $(BUILD)/tools/web_trace $(PAGE_FILES)
	BUILD=$(BUILD) tests/bench/run

clean:
	rm -rf $(BUILD)

help:
	@echo "make          build build/tracefs"
	@echo "make deps     install the Debian packages the build and tests need"
	@echo "make check    build everything and run the whole test suite"
	@echo "make demo     mount a scratch directory, run the first workload, show the trace"
	@echo "make bench    time tracefs against native, bindfs and loggedfs (< 15 min)"
	@echo "make clean    remove build/"
