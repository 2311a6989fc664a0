# Assay - one Makefile for everything.
#   make            build the programs into build/
#   make test       build and run every test (unit + end-to-end)
#   make demo       grade the examples and show the results
#   make sanitize   the same tests on an ASan + UBSan build (build-sanitize/)
#   make fuzz       build the libFuzzer targets of tests/fuzz/ with clang
#                   (build-fuzz/) and run each FUZZ_SECONDS (60) on its corpus
#   make install    install under $(DESTDIR)$(PREFIX) (and the logrotate file in
#                   /etc/logrotate.d)
# Missing Debian packages are installed by scripts/install-deps.sh (as root)
# or named in the exact apt-get line to run.

VERSION  := 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
# Where `make install` puts the systemd units (systemd reads units from
# /usr/local/lib/systemd/system and /usr/lib/systemd/system) and the
# logrotate file (logrotate reads /etc/logrotate.d only).
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
LOGROTATE_DIR    ?= /etc/logrotate.d
BUILD    ?= build
CC       ?= cc
PYTHON   := /usr/bin/python3

CFLAGS_WARN := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
CFLAGS_OPT  ?= -O2 -g
ifdef SANITIZE
CFLAGS_OPT  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS_SAN := -fsanitize=address,undefined
endif
# The fuzz build (make fuzz): every object with clang's coverage for
# libFuzzer and ASan + UBSan; only the targets link libFuzzer's main.
ifdef FUZZ
CC          := clang
CFLAGS_OPT  := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=undefined
LDFLAGS_SAN := -fsanitize=address,undefined
endif
FUZZ_SECONDS ?= 60
# assay links its libraries dynamically, as the daemons do, so that
# Debian's security updates reach it (static-pie saved it 0.3 ms of CPU a
# start), but loads libzip only when it reads a zip (cli/zip_lazy.c):
# with the OpenSSL it pulls in, libzip would cost every start 3.8 million
# instructions more.  --as-needed (Debian's gcc passes it, but not with
# the sanitizers) leaves libzip out of assay: nothing is left for it.
LDFLAGS_CLI := -Wl,--as-needed
# cli/zip_lazy.c opens libzip by the name the linker would record.
LIBZIP_SONAME = $(shell objdump -p $$(pkg-config --variable=libdir libzip)/libzip.so 2>/dev/null | sed -n 's/^ *SONAME *//p')
PKG_CFLAGS  = $(shell pkg-config --cflags jansson zlib libzip libmd libuv libssh2 libmicrohttpd libsodium libcurl 2>/dev/null) \
              -DLIBZIP_SONAME='"$(LIBZIP_SONAME)"'
CFLAGS_ALL  = $(CFLAGS_WARN) $(CFLAGS_OPT) -D_DEFAULT_SOURCE -DASSAY_VERSION='"$(VERSION)"' \
              -I. -I$(BUILD)/gen $(PKG_CFLAGS) $(CFLAGS)
LIBS_CORE   = $(shell pkg-config --libs jansson zlib libzip libmd 2>/dev/null) -lm
LIBS_SANDBOX = $(shell pkg-config --libs libseccomp 2>/dev/null)
LIBS_TEST   = $(shell pkg-config --libs cmocka 2>/dev/null)
LIBS_UV     = $(shell pkg-config --libs libuv 2>/dev/null)
LIBS_SSH    = $(shell pkg-config --libs libssh2 2>/dev/null)
# assay-web's HTTP server; libsodium hashes passwords (assay-web, assay users)
# and checks webhook signatures.
LIBS_MHD    = $(shell pkg-config --libs libmicrohttpd 2>/dev/null)
LIBS_SODIUM = $(shell pkg-config --libs libsodium 2>/dev/null)
# libcurl: deliveries, and the slurm transport's calls to slurmrestd.
LIBS_CURL   = $(shell pkg-config --libs libcurl 2>/dev/null)
# libyaml: `assay import classroom` reads Classroom's workflow file.
LIBS_YAML   = $(shell pkg-config --libs yaml-0.1 2>/dev/null)

# The layers (docs/ARCHITECTURE.md, "Layers"): each library folder is one
# static archive, and each program links the archives below it, highest
# first.  An archive lends a program only the objects it uses, and a
# reference that points up a layer does not link.
LIBS_ORDER := engine sandbox spool contract common
lib_src = $(wildcard $(1)/*.c $(1)/*/*.c)
lib_a = $(foreach l,$(1),$(BUILD)/lib/libassay-$(l).a)
PY_ASSETS  := engine/python/pytest_runner.py engine/python/doctest_runner.py \
              engine/python/notebook_runner.py engine/python/autotest_expand.py \
              engine/python/property_runner.py engine/python/mutate.py engine/python/kit_check.py
# The canary gradings' assignments (contract/canary.c), NAME=FILE for embed.sh.
CANARY_DIR    := contract/canaries
CANARY_ASSETS := asset_canary_needs_sh=$(CANARY_DIR)/common/needs.sh \
    asset_canary_needs_py=$(CANARY_DIR)/common/needs.py \
    asset_canary_io_assignment=$(CANARY_DIR)/io/assignment.json \
    asset_canary_io_hello=$(CANARY_DIR)/io/hello.py \
    asset_canary_pytest_assignment=$(CANARY_DIR)/pytest/assignment.json \
    asset_canary_pytest_test=$(CANARY_DIR)/pytest/tests/test_canary.py \
    asset_canary_pytest_canary=$(CANARY_DIR)/pytest/canary.py \
    asset_canary_doctest_assignment=$(CANARY_DIR)/doctest/assignment.json \
    asset_canary_doctest_canary=$(CANARY_DIR)/doctest/canary.py \
    asset_canary_notebook_assignment=$(CANARY_DIR)/notebook/assignment.json \
    asset_canary_notebook_source=$(CANARY_DIR)/notebook/source/canary.ipynb \
    asset_canary_notebook_canary=$(CANARY_DIR)/notebook/canary.ipynb \
    asset_canary_gradescope_assignment=$(CANARY_DIR)/gradescope/assignment.json \
    asset_canary_gradescope_run=$(CANARY_DIR)/gradescope/autograder/run_autograder \
    asset_canary_gradescope_answer=$(CANARY_DIR)/gradescope/answer.txt \
    asset_canary_property_assignment=$(CANARY_DIR)/property/assignment.json \
    asset_canary_property_reference=$(CANARY_DIR)/property/reference/canary.py \
    asset_canary_property_canary=$(CANARY_DIR)/property/canary.py
UNIT_SRC   := $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
# The scheduling policies and their containers (no libuv): unit tests and
# bench/ drive them on a simulated clock.
POLICY_OBJ := $(call obj,scheduler/policy.c $(wildcard scheduler/policy_*.c) scheduler/heap.c scheduler/strmap.c)
# A job's trip through a shipper (no transport): unit-tested on a fake one.
SHIP_OBJ   := $(call obj,shipper/ship.c)
# The /metrics renderer (no HTTP): unit-tested and benchmarked alone.
METRICS_OBJ := $(call obj,web/metrics.c)
# assay-web without its main: its unit test drives sessions, CSRF, escaping
# and the access decisions directly.
WEB_OBJ    := $(call obj,$(filter-out web/main.c,$(wildcard web/*.c))) $(BUILD)/obj/gen/web_assets.o

# What each program links, beside its own folder's objects.
# The scheduler grades assignments without tests itself with the engine
# and no launcher; neither it nor the shippers link the sandbox.
CLI_LIBS       := $(call lib_a,engine sandbox spool contract common)
WORKER_LIBS    := $(call lib_a,engine sandbox contract common)
SHIPPER_LIBS   := $(call lib_a,spool contract common)
SCHEDULER_LIBS := $(call lib_a,engine spool contract common)
INTAKE_LIBS    := $(call lib_a,engine spool contract common)
DELIVER_LIBS   := $(call lib_a,spool contract common)
# The destinations (no libuv, no network): unit-tested by feeding them answers.
DEST_OBJ   := $(call obj,deliver/destination.c deliver/commit_status.c $(wildcard deliver/dest_*.c))
WEB_LIBS       := $(call lib_a,spool contract common)
ALL_LIBS       := $(call lib_a,$(LIBS_ORDER))

.PHONY: all test demo sanitize install clean deps bench fuzz fuzz-build
PROGRAMS := $(BUILD)/assay $(BUILD)/assay-worker $(BUILD)/assay-shipper $(BUILD)/assay-scheduler \
            $(BUILD)/assay-deliver $(BUILD)/assay-intake $(BUILD)/assay-web
all: deps $(PROGRAMS)

deps:
	@scripts/install-deps.sh --ensure

$(BUILD)/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/gen/assets.c: $(PY_ASSETS) scripts/embed.sh
	@mkdir -p $(dir $@)
	scripts/embed.sh $@ asset_pytest_runner=engine/python/pytest_runner.py \
	    asset_doctest_runner=engine/python/doctest_runner.py \
	    asset_notebook_runner=engine/python/notebook_runner.py \
	    asset_autotest_expand=engine/python/autotest_expand.py \
	    asset_property_runner=engine/python/property_runner.py \
	    asset_mutate=engine/python/mutate.py asset_kit_check=engine/python/kit_check.py

$(BUILD)/gen/canary_assets.c: $(foreach a,$(CANARY_ASSETS),$(lastword $(subst =, ,$(a)))) scripts/embed.sh
	@mkdir -p $(dir $@)
	scripts/embed.sh $@ $(CANARY_ASSETS)

# assay-web's stylesheet and script, built into the binary.
$(BUILD)/gen/web_assets.c: web/assay.css web/assay.js scripts/embed.sh
	@mkdir -p $(dir $@)
	scripts/embed.sh $@ asset_web_css=web/assay.css asset_web_js=web/assay.js

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/lib/libassay-engine.a: $(call obj,$(call lib_src,engine)) $(BUILD)/obj/gen/assets.o
$(BUILD)/lib/libassay-contract.a: $(call obj,$(call lib_src,contract)) $(BUILD)/obj/gen/canary_assets.o
$(foreach l,sandbox spool common,$(eval $(BUILD)/lib/libassay-$(l).a: $(call obj,$(call lib_src,$(l)))))
$(BUILD)/lib/%.a:
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# assay links no transport (libssh2, OpenSSL): it runs once per submission
# and starts faster without them; `assay workers check` asks assay-shipper.
$(BUILD)/assay: $(call obj,$(wildcard cli/*.c)) $(CLI_LIBS)
	$(CC) $(LDFLAGS_SAN) $(LDFLAGS) $(LDFLAGS_CLI) -o $@ $^ $(LIBS_CORE) $(LIBS_SANDBOX) $(LIBS_YAML) $(LIBS_SODIUM)

# -z now: symbols are bound once in the daemon, not again in each grader it forks.
$(BUILD)/assay-worker: $(call obj,$(wildcard worker/*.c)) $(WORKER_LIBS)
	$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -Wl,-z,now -o $@ $^ $(LIBS_CORE) $(LIBS_SANDBOX) $(LIBS_UV)

$(BUILD)/assay-shipper: $(call obj,$(wildcard shipper/*.c)) $(SHIPPER_LIBS)
	$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $^ $(LIBS_CORE) $(LIBS_SSH) $(LIBS_CURL)

$(BUILD)/assay-scheduler: $(call obj,$(wildcard scheduler/*.c)) $(SCHEDULER_LIBS)
	$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $^ $(LIBS_CORE) $(LIBS_UV)

# libcurl: the deliveries (assay-deliver only; `assay canvas roster` asks it).
$(BUILD)/assay-deliver: $(call obj,$(wildcard deliver/*.c)) $(DELIVER_LIBS)
	$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $^ $(LIBS_CORE) $(LIBS_UV) $(LIBS_CURL)

$(BUILD)/tests/%: tests/unit/%.c $(POLICY_OBJ) $(SHIP_OBJ) $(DEST_OBJ) $(METRICS_OBJ) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDFLAGS_SAN) $(LDFLAGS) $(LIBS_CORE) $(LIBS_SANDBOX) $(LIBS_SODIUM) $(LIBS_TEST) $(LIBS_CURL)

# The Canvas destination's tests also read answer headers (deliver/http.c).
$(BUILD)/tests/test_dest_canvas: tests/unit/test_dest_canvas.c $(DEST_OBJ) $(call obj,deliver/http.c) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDFLAGS_SAN) $(LDFLAGS) $(LIBS_CORE) $(LIBS_UV) $(LIBS_TEST) $(LIBS_CURL)

# assay-intake fetches pushed commits (libcurl) and stages them with the
# engine's submission rules (no launcher: it runs nothing).
$(BUILD)/assay-intake: $(call obj,$(wildcard intake/*.c)) $(INTAKE_LIBS)
	$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $^ $(LIBS_CORE) $(LIBS_CURL) $(LIBS_UV)

# The webhook endpoints (web/hooks*.c), unit-tested without the HTTP server.
$(BUILD)/tests/test_hooks: tests/unit/test_hooks.c $(WEB_OBJ) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDFLAGS_SAN) $(LDFLAGS) $(LIBS_CORE) $(LIBS_UV) $(LIBS_MHD) $(LIBS_SODIUM) $(LIBS_TEST)

$(BUILD)/assay-web: $(BUILD)/obj/web/main.o $(WEB_OBJ) $(WEB_LIBS)
	$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $^ $(LIBS_CORE) $(LIBS_UV) $(LIBS_MHD) $(LIBS_SODIUM)

$(BUILD)/tests/test_web: tests/unit/test_web.c $(WEB_OBJ) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDFLAGS_SAN) $(LDFLAGS) $(LIBS_CORE) $(LIBS_UV) $(LIBS_MHD) $(LIBS_SODIUM) $(LIBS_TEST)

$(BUILD)/bench/%: bench/%.c $(POLICY_OBJ) $(METRICS_OBJ) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDFLAGS_SAN) $(LDFLAGS) $(LIBS_CORE) $(LIBS_SANDBOX) $(LIBS_SODIUM)

# The transport contract (tests/contract/): one driver that checks
# shipper/transport.h against a real worker of any transport; run by
# tests/e2e/test_transport_contract.py once per transport.
CONTRACT_BIN := $(BUILD)/tests/transport_contract
$(CONTRACT_BIN): tests/contract/transport_contract.c $(call obj,$(wildcard shipper/transport*.c shipper/slurm_*.c)) $(SHIPPER_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDFLAGS_SAN) $(LDFLAGS) $(LIBS_CORE) $(LIBS_SSH) $(LIBS_CURL)

# The fuzz targets (tests/fuzz/README.md): one per parser of untrusted
# input, each a libFuzzer program linked with the library archives.
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/*.c))
$(BUILD)/fuzz/%: tests/fuzz/%.c $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $^ $(LDFLAGS_SAN) $(LDFLAGS) $(LIBS_CORE) $(LIBS_SANDBOX)

# What Canvas answers goes through assay-deliver's header reading and the
# Canvas destination: that target links them, libcurl and libuv too.
$(BUILD)/fuzz/canvas: tests/fuzz/canvas.c $(DEST_OBJ) $(call obj,deliver/http.c) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $^ $(LDFLAGS_SAN) $(LDFLAGS) $(LIBS_CORE) $(LIBS_SANDBOX) $(LIBS_CURL) $(LIBS_UV)

# Webhook requests go through assay-web's hook handlers (libsodium).
$(BUILD)/fuzz/hooks: tests/fuzz/hooks.c $(WEB_OBJ) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $^ $(LDFLAGS_SAN) $(LDFLAGS) $(LIBS_CORE) $(LIBS_UV) $(LIBS_MHD) $(LIBS_SODIUM)

fuzz-build: deps $(FUZZ_BIN)

fuzz:
	@$(MAKE) --no-print-directory BUILD=build-fuzz FUZZ=1 fuzz-build
	@BUILD=build-fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

# The C benchmarks are built by `make test` too, so one that no longer
# compiles against the code it measures is seen at once.
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

bench: all $(BENCH_BIN)
	@scripts/install-deps.sh --ensure --bench

test: all $(UNIT_BIN) $(CONTRACT_BIN) $(BENCH_BIN)
	@BUILD=$(BUILD) PYTHON=$(PYTHON) FUZZ_SECONDS=$(if $(SANITIZE),0,$(FUZZ_SECONDS)) tests/run.sh

sanitize:
	$(MAKE) BUILD=build-sanitize SANITIZE=1 test

demo: all
	@BUILD=$(BUILD) scripts/demo.sh

# The unit templates' placeholders: the prefix, and the worker's defaults
# (deploy-worker.sh fills in a host's own from the same template).
UNIT_SUBST = -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@WORKER_DIR@|/var/lib/assay-worker|g' \
             -e 's|@SLOTS@|2|g' -e 's|@NAME@|%H|g'

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/share/doc/assay $(DESTDIR)$(PREFIX)/share/assay
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/assay/
	cp -R examples $(DESTDIR)$(PREFIX)/share/assay/
	install -d $(DESTDIR)$(PREFIX)/share/assay/systemd $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	install -m 0755 scripts/deploy-worker.sh $(DESTDIR)$(PREFIX)/share/assay/
	install -m 0644 scripts/systemd/assay-worker.service.in $(DESTDIR)$(PREFIX)/share/assay/systemd/
	for u in assay-scheduler assay-worker assay-web; do \
	    sed $(UNIT_SUBST) scripts/systemd/$$u.service.in >$(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u.service && \
	    chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u.service || exit 1; \
	done
	install -d $(DESTDIR)$(PREFIX)/share/assay/logrotate $(DESTDIR)$(LOGROTATE_DIR)
	install -m 0644 scripts/logrotate/assay $(DESTDIR)$(PREFIX)/share/assay/logrotate/
	@# an admin's edited copy (another spool path, say) is kept
	@if [ -e $(DESTDIR)$(LOGROTATE_DIR)/assay ] && \
	    ! cmp -s scripts/logrotate/assay $(DESTDIR)$(LOGROTATE_DIR)/assay; then \
	    echo "kept $(DESTDIR)$(LOGROTATE_DIR)/assay, which differs from this version's:" \
	         "compare it with $(PREFIX)/share/assay/logrotate/assay"; \
	else \
	    echo "install -m 0644 scripts/logrotate/assay $(DESTDIR)$(LOGROTATE_DIR)/"; \
	    install -m 0644 scripts/logrotate/assay $(DESTDIR)$(LOGROTATE_DIR)/; \
	fi

clean:
	rm -rf build build-sanitize build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
