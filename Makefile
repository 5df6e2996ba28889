# dgov - one GNU Makefile. `make run` and `make test` are the two commands a
# new user types; both install what is missing first (scripts/deps.sh).
#
#   make            build build/dgov
#   make run        set up, build, create the demo region if missing, serve it
#   make test       set up, build, run the whole suite on SQLite and PostgreSQL
#   make bench      dgov next to its peers: nginx under wrk (bench/http), DuckDB (bench/rule);
#                   ends with one table of every figure, also in bench/last.json
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (default 20)
#   make format     clang-format every C file
#
# CI=true (or SAN=1) builds with ASan+UBSan; CI=true also adds -Werror.

BUILD ?= build
ifeq ($(CI),true)
SAN ?= 1
WERROR ?= 1
endif
ifeq ($(SAN),1)
BUILD := $(BUILD)/san
endif

CC ?= cc
PKGS = libmicrohttpd jansson sqlite3 libpq libsodium libcurl yaml-0.1 libqrencode xlsxwriter icu-uc
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))

# CFLAGS and LDFLAGS are the user's (`make CFLAGS=-O0`); what dgov needs to
# build at all is in DG_CFLAGS and always added, so overriding CFLAGS keeps
# the standard, the include path, the packages and the warnings.
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wshadow -Wformat=2 -Wno-missing-field-initializers -Wvla \
	-Wmissing-prototypes -Wwrite-strings
DG_CFLAGS = -std=c11 -D_GNU_SOURCE -Isrc $(WARN) $(PKG_CFLAGS) -pthread -MMD -MP
DG_LDFLAGS =
LDLIBS += $(PKG_LIBS) -lm -pthread
ifeq ($(WERROR),1)
DG_CFLAGS += -Werror
endif
ifeq ($(SAN),1)
DG_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
DG_LDFLAGS += -fsanitize=address,undefined
endif
ALL_CFLAGS = $(DG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(DG_LDFLAGS) $(LDFLAGS)

LIB_SRC := $(sort $(shell find src -mindepth 2 -name '*.c'))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libdgov.a
BIN := $(BUILD)/dgov

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
HTTP_SRC := $(sort $(wildcard tests/http/test_*.c))
HTTP_BIN := $(HTTP_SRC:tests/http/%.c=$(BUILD)/tests/http/%)
HTTP_HARNESS := $(BUILD)/tests/http/harness.o
# one harness object for every HTTP test binary, kept between builds
.SECONDARY: $(HTTP_HARNESS)

.PHONY: all run test test-only tests bench fuzz format clean

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/src/main.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)
	@if [ "$(BUILD)" != build ]; then mkdir -p build && ln -sf $(abspath $@) build/dgov-current; fi

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

$(BUILD)/tests/http/%: tests/http/%.c $(HTTP_HARNESS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(HTTP_HARNESS) $(LIB) $(LDLIBS) -lcmocka

tests: $(BIN) $(UNIT_BIN) $(HTTP_BIN)

run:
	scripts/deps.sh run
	$(MAKE) all
	$(BIN) demo --if-missing $(RUN_ARGS)
	DGOV_TEXT_LOG=$${DGOV_TEXT_LOG-1} $(BIN) serve $(RUN_ARGS)

# The suite: unit tests, HTTP tests and browser tests, on both stores.
# The build runs NPROC compilers at once (-O keeps each one's output whole).
NPROC ?= $(shell nproc 2>/dev/null || echo 2)
test:
	scripts/deps.sh test
	@t0=$$(date +%s.%N); $(MAKE) -j$(NPROC) -O tests && \
	DGOV_BUILD_SECONDS=$$(awk -v a=$$t0 -v b=$$(date +%s.%N) 'BEGIN { printf "%.1f", b - a }') \
	DGOV_BIN=$(BIN) DGOV_BUILD=$(BUILD) scripts/test.sh

# Run the suite without the install step (for repeated local runs).
test-only:
	$(MAKE) -j$(NPROC) -O tests
	DGOV_BIN=$(BIN) DGOV_BUILD=$(BUILD) scripts/test.sh

# BENCH picks which: http (pages and /healthz, dgov vs nginx), cases
# (applications submitted by 64 clients on both stores, counted afterwards),
# rule (the rule engine vs DuckDB on a generated population of BENCH_PERSONS,
# default 10M), datastore (CSV loads and datastore_search on BENCH_ROWS rows,
# default 1M, vs sqlite3/psql), or all (default). soak (64 connections of
# mixed reads and writes for BENCH_SECONDS, default 600, on each store: errors,
# p99, memory, lost writes, where the time goes) runs only when named, and
# so does catalog (issue 19's requests on `dgov demo --datasets N` catalogues
# of BENCH_SIZES datasets, default "1000 190000", package_search's q next to
# the store's own full-text query), and publish (issue 19: package_create by
# 8 departments' staff under wrk for BENCH_SECONDS, default 20, on both
# stores, counted afterwards, next to the same rows written straight to the
# store). exchange (issue 12: the one-record
# /x/v1 lookup under wrk at 64 connections next to PostgREST and pgbench,
# audit appends on both stores, `dgov audit verify` over BENCH_AUDIT records,
# default 1M, and a bulk read of a BENCH_ROWS-record registry next to psql
# \copy) runs only when named too: it loads the registry first. proactive
# (issue 13: a full matching run over the demo's registries, its read next to
# the store's own SQL reading the same rows, then an incremental run after
# BENCH_CHANGES, default 1000, changed records, next to the full run; both
# stores).
# Each run.sh prints its own table and records its figures (bench_record,
# bench/record.sh) in the file BENCH_RESULTS names; bench/report.sh then
# prints them all in one table and writes bench/last.json with the commit,
# the core count and the load average at the start and at the end.
BENCH ?= http cases rule datastore proactive
BENCH_PERSONS ?= 10000000
BENCH_ROWS ?= 1000000
BENCH_AUDIT ?= 1000000
bench:
	scripts/deps.sh bench
	$(MAKE) all
	@BENCH_RESULTS=$$(mktemp -t dgov-bench-results.XXXXXX); export BENCH_RESULTS; \
	trap 'rm -f "$$BENCH_RESULTS"' EXIT; \
	load0=$$(cut -d' ' -f1-3 /proc/loadavg); \
	for b in $(BENCH); do \
		case $$b in \
		http) DGOV_BIN=$(BIN) bench/http/run.sh || exit 1 ;; \
		cases) DGOV_BIN=$(BIN) bench/cases/run.sh || exit 1 ;; \
		rule) DGOV_BIN=$(BIN) bench/rule/run.sh $(BENCH_PERSONS) || exit 1 ;; \
		datastore) DGOV_BIN=$(BIN) BENCH_ROWS=$(BENCH_ROWS) bench/datastore/run.sh || exit 1 ;; \
		soak) DGOV_BIN=$(BIN) bench/soak/run.sh || exit 1 ;; \
		catalog) DGOV_BIN=$(BIN) bench/catalog/run.sh || exit 1 ;; \
		publish) DGOV_BIN=$(BIN) bench/catalog/create.sh || exit 1 ;; \
		exchange) DGOV_BIN=$(BIN) BENCH_ROWS=$(BENCH_ROWS) BENCH_AUDIT=$(BENCH_AUDIT) \
			bench/exchange/run.sh || exit 1 ;; \
		proactive) DGOV_BIN=$(BIN) bench/proactive/run.sh || exit 1 ;; \
		*) echo "unknown benchmark $$b (http, cases, rule, datastore, soak, catalog, publish, exchange, proactive)"; exit 2 ;; \
		esac; \
	done; \
	bench/report.sh "$$BENCH_RESULTS" "$$load0"

FUZZ_SECONDS ?= 20
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
# The library is compiled once for fuzzing (clang, coverage without the
# fuzzer's main, sanitizers) into its own archive; each target links it.
FUZZ_CC ?= clang
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Isrc $(PKG_CFLAGS) -pthread -MMD -MP \
	-fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIB_SRC := $(filter-out src/main.c,$(LIB_SRC))
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=build/fuzz/obj/%.o)
FUZZ_LIB := build/fuzz/libdgov.a
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^
build/fuzz/%: fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(PKG_LIBS) -lm -pthread

fuzz:
	scripts/deps.sh fuzz
	$(MAKE) $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
		name=$$(basename $$f); mkdir -p build/fuzz/corpus/$$name; \
		echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			build/fuzz/corpus/$$name fuzz/corpus/$$name || exit 1; \
	done

format:
	clang-format -i $(shell find src tests fuzz bench -name '*.[ch]')

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d $(HTTP_HARNESS:.o=.d) $(UNIT_BIN:=.d) $(HTTP_BIN:=.d)
-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BIN:=.d)
