# tracefs — build, test and demo targets. `make help` lists them.

CC      ?= cc
PKGS    := fuse3 sqlite3 cairo libwebsockets liburing libgit2
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
           -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += -Wl,--as-needed $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

BUILD   ?= build
.DEFAULT_GOAL := all

# Build on every core unless told otherwise (make -jN); sub-makes share the
# top one's jobs.
ifeq ($(MAKELEVEL),0)
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc)
endif
endif
# Objects are kept: a test program's object is not a throw-away intermediate.
.SECONDARY:

# Modules: every top-level folder with C sources is one static library,
# built from one object per source with generated header dependencies, so
# that touching a file rebuilds its object and relinks. tracefs/ holds the
# FUSE layer and main(): it is the program, not a library, and nothing else
# links it. Static libraries let each binary pull only the objects it uses.
LIB_MODULES  := $(filter-out tracefs tests,$(patsubst %/,%,$(sort $(dir $(wildcard */*.c)))))
TRACEFS_SRC  := $(wildcard tracefs/*.c)
UNIT_SRC     := $(wildcard tests/unit/*.c)
TOOL_SRC     := $(wildcard tests/tools/*.c)
BENCH_SRC    := $(wildcard tests/bench/*.c)

# $(call objects,FLAVOUR,SOURCES): the objects of SOURCES in $(BUILD)/FLAVOUR.
objects = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))
# $(call libraries,FLAVOUR): every module's library in that flavour.
libraries = $(foreach m,$(LIB_MODULES),$(BUILD)/$(1)/lib$(m).a)
# Link order does not matter between the libraries: they refer to each other.
link_libraries = -Wl,--start-group $(call libraries,$(1)) -Wl,--end-group

$(BUILD)/obj/%.o: %.c | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj-asan/%.o: %.c | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -MMD -MP -c -o $@ $<

define module_library
$(BUILD)/obj/lib$(1).a: $(call objects,obj,$(wildcard $(1)/*.c))
	rm -f $$@ && ar rcs $$@ $$^
$(BUILD)/obj-asan/lib$(1).a: $(call objects,obj-asan,$(wildcard $(1)/*.c))
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,$(LIB_MODULES),$(eval $(call module_library,$(m))))

ALL_SRC := $(TRACEFS_SRC) $(UNIT_SRC) $(TOOL_SRC) $(BENCH_SRC) $(wildcard $(addsuffix /*.c,$(LIB_MODULES)))
-include $(patsubst %.o,%.d,$(call objects,obj,$(ALL_SRC)) $(call objects,obj-asan,$(ALL_SRC)))

.PHONY: all deps browser-deps check test-programs demo clean help bench fuzz

all: $(BUILD)/tracefs

$(BUILD)/tracefs: $(call objects,obj,$(TRACEFS_SRC)) $(call libraries,obj)
	$(CC) $(CFLAGS) -o $@ $(call objects,obj,$(TRACEFS_SRC)) $(call link_libraries,obj) $(LDLIBS)

# The sanitizer build of the daemon, used by the integration tests.
$(BUILD)/tracefs-asan: $(call objects,obj-asan,$(TRACEFS_SRC)) $(call libraries,obj-asan)
	$(CC) $(CFLAGS) $(SAN) -o $@ $(call objects,obj-asan,$(TRACEFS_SRC)) $(call link_libraries,obj-asan) $(LDLIBS)

# The browser page: web/page/ copied to $(BUILD)/web/, which the server
# serves from next to the tracefs binary, with the scene model (viz/, which
# holds no I/O; the cairo drawing is in render/) compiled to WebAssembly for it.
WASM_CC    ?= clang
WASM_SRC   := $(wildcard viz/*.c) web/page/viz_wasm.c
WASM_FLAGS := --target=wasm32 -ffreestanding -nostdlib -O2 -std=gnu11 -Wall -Wextra -Werror \
              -fvisibility=hidden -I. -Wl,--no-entry -Wl,--export-dynamic \
              -Wl,-z,stack-size=1048576 -Wl,--stack-first -Wl,--max-memory=2147483648
PAGE_FILES := $(addprefix $(BUILD)/web/,index.html app.js style.css viz.wasm)

all: $(PAGE_FILES)
$(BUILD)/tracefs-asan: | $(PAGE_FILES)

$(BUILD)/web/viz.wasm: $(WASM_SRC) $(wildcard viz/*.h web/page/*.h) trace/names.h | $(BUILD)
	@mkdir -p $(dir $@)
	$(WASM_CC) $(WASM_FLAGS) -o $@ $(WASM_SRC)

$(BUILD)/web/%: web/page/% | $(BUILD)
	@mkdir -p $(dir $@)
	cp $< $@

# Unit tests, test tools and benchmark tools link the module libraries
# (never tracefs/, which is the FUSE layer); each pulls only what it uses.
UNIT_BIN      := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
UNIT_ASAN_BIN := $(patsubst tests/unit/%.c,$(BUILD)/unit-asan/%,$(UNIT_SRC))
TOOL_BIN      := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))
BENCH_BIN     := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

define test_program
$(BUILD)/$(1)/%: $(BUILD)/obj/tests/$(1)/%.o $(call libraries,obj)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -o $$@ $$< $$(call link_libraries,obj) $$(LDLIBS)
endef
$(foreach kind,unit tools bench,$(eval $(call test_program,$(kind))))

$(BUILD)/unit-asan/%: $(BUILD)/obj-asan/tests/unit/%.o $(call libraries,obj-asan)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -o $@ $< $(call link_libraries,obj-asan) $(LDLIBS)

$(BUILD):
	mkdir -p $@

# Debian packages for building and for the tests. Idempotent: does nothing
# when everything is installed, so `make check` works offline afterwards.
DEB_BUILD := build-essential pkg-config libfuse3-dev fuse3 libsqlite3-dev sqlite3 libcairo2-dev liburing-dev \
             libwebsockets-dev libgit2-dev clang lld
DEB_TEST  := valgrind graphviz sshfs openssh-server openssh-client git attr util-linux psmisc chromium \
             ffmpeg gource xvfb xauth
# `make check` and `make demo` run this once per package list (the stamp's
# name is the list's hash), so that afterwards they do not query dpkg.
DEPS_STAMP := $(BUILD)/.deps-$(shell echo $(DEB_BUILD) $(DEB_TEST) | md5sum | cut -c1-12)
$(DEPS_STAMP): | $(BUILD)
	@$(MAKE) --no-print-directory deps
	@touch $@

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

check: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory browser-deps test-programs
	BUILD=$(BUILD) tests/run

test-programs: $(BUILD)/tracefs $(BUILD)/tracefs-asan $(PAGE_FILES) $(UNIT_BIN) $(UNIT_ASAN_BIN) $(TOOL_BIN)

demo: $(DEPS_STAMP) all
	tests/demo/first-workload

# tracefs against native, bindfs and loggedfs; BENCH_WORKLOADS, BENCH_RUNS,
# BENCH_QUICK: see tests/bench/run --help.
bench: deps $(BUILD)/tracefs $(BENCH_BIN) $(BUILD)/tools/ws_client $(BUILD)/tools/web_trace $(BUILD)/tools/make_trace $(PAGE_FILES)
	BUILD=$(BUILD) tests/bench/run

# Fuzzing, not part of `make check`: the libFuzzer targets in tests/fuzz/
# (the trace reader and report; the client-command parser; the loader of
# the index serve keeps), built with
# clang's -fsanitize=fuzzer plus ASan and UBSan, each run for FUZZ_SECONDS
# from its committed seeds in tests/fuzz/corpus/NAME/. New inputs go to
# $(BUILD)/fuzz/NAME/, a crash to $(BUILD)/fuzz/crash-* (make fuzz fails).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := trace command index
FUZZ_FLAGS   := -std=gnu11 -g -O1 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I. \
                $(shell pkg-config --cflags sqlite3 libwebsockets 2>/dev/null) \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_BIN     := $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZ_TARGETS))
FUZZ_trace   := $(wildcard trace/*.c analyze/*.c)
FUZZ_command := web/command.c
FUZZ_index   := web/index.c web/lineage.c web/text.c $(wildcard trace/*.c analyze/*.c play/*.c viz/*.c)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard trace/*.[ch] analyze/*.[ch] web/*.[ch] play/*.[ch] viz/*.[ch]) | $(BUILD)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_$*) $(LDLIBS)

fuzz: $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(BUILD)/fuzz/$$t && echo "fuzzing $$t for $(FUZZ_SECONDS) s" && \
	    $(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	        -artifact_prefix=$(BUILD)/fuzz/ -print_final_stats=1 \
	        $(BUILD)/fuzz/$$t tests/fuzz/corpus/$$t >$(BUILD)/fuzz/$$t.log 2>&1 || \
	        { tail -n 60 $(BUILD)/fuzz/$$t.log; exit 1; }; \
	    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss)' $(BUILD)/fuzz/$$t.log; \
	done

clean:
	rm -rf $(BUILD)

help:
	@echo "make          build build/tracefs"
	@echo "make deps     install the Debian packages the build and tests need"
	@echo "make check    build everything and run the whole test suite"
	@echo "make demo     mount a scratch directory, run the first workload, show the trace"
	@echo "make bench    time tracefs against native, bindfs and loggedfs (< 15 min)"
	@echo "make fuzz     fuzz the trace reader, the client-command parser and the kept index's loader (FUZZ_SECONDS each)"
	@echo "make clean    remove build/"
