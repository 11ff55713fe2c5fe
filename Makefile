# casevault: one Makefile. `make deps` installs the Debian packages; `make`
# builds; `make test` runs every suite; `make asan` runs it sanitized.

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
PKGS     = libsodium lmdb libgit2 jansson libargon2 zlib libcbor nettle

CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wvla -Wformat=2
HARDEN   = -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
HARDLD   = -pie -Wl,-z,relro,-z,now
ifeq ($(SAN),1)
HARDEN   = -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=all
HARDLD   = -fsanitize=address,undefined
CFLAGS   = -O1 -g
endif
CPPFLAGS += -D_DEFAULT_SOURCE -Iinclude -Isrc -MMD -MP
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS  = $(WARN) $(HARDEN) $(CFLAGS) $(PKG_CFLAGS)
LDLIBS      = $(PKG_LIBS) -lpthread

LAYERS   = base store audit model rules gate ops dispatch
LIB_SRC  = $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
LIB_HDR  = $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.h))
CLI_SRC  = $(wildcard src/cli/*.c)
DAEMON_SRC = $(wildcard src/daemon/*.c)
TEST_SRC = $(wildcard tests/test_*.c)
BENCH_SRC = $(wildcard bench/*.c)
FUZZ_SRC = $(filter-out fuzz/driver.c,$(wildcard fuzz/*.c))

DATA     = $(sort $(wildcard policies/*.policy forms/*.json forms/instruments/*.json))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/embedded.o
CLI_OBJ  = $(CLI_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ = $(DAEMON_SRC:%.c=$(BUILD)/%.o)
LIB      = $(BUILD)/libcasevault.a
BIN      = $(BUILD)/casevault
DAEMON   = $(BUILD)/casevaultd
TESTS    = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCHES  = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
FUZZERS  = $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)

ifeq ($(V),1)
Q =
else
Q = @
endif

# Objects of tests, benchmarks and fuzz targets are kept for rebuilds.
.SECONDARY:

.PHONY: all deps test check asan demo bench fuzz fuzz-build install clean \
	format format-check
all: $(BIN) $(DAEMON)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The command sees the public header only.
$(BUILD)/src/cli/%.o: src/cli/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(filter-out -Isrc,$(CPPFLAGS)) $(ALL_CFLAGS) -c -o $@ $<

# The daemon too.
$(BUILD)/src/daemon/%.o: src/daemon/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(filter-out -Isrc,$(CPPFLAGS)) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/embedded.c: $(DATA) tools/embed.sh
	@mkdir -p $(dir $@)
	$(Q)sh tools/embed.sh $@ $(DATA)

$(BUILD)/gen/embedded.o: $(BUILD)/gen/embedded.c
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(HARDLD) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

$(DAEMON): $(DAEMON_OBJ) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(HARDLD) -o $@ $(DAEMON_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(HARDLD) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	$(Q)$(CC) $(ALL_CFLAGS) $(HARDLD) -o $@ $< $(LIB) $(LDLIBS)

# Each fuzz target also builds against a plain driver that replays the
# seed corpus, so `make test` keeps the targets compiling and running.
$(BUILD)/fuzz/%: $(BUILD)/fuzz/%.o $(BUILD)/fuzz/driver.o $(LIB)
	$(Q)$(CC) $(ALL_CFLAGS) $(HARDLD) -o $@ $^ $(LDLIBS)

# The command-line parser's target links the command, all but its main().
CLI_PARSER_OBJ = $(filter-out $(BUILD)/src/cli/main.o,$(CLI_OBJ))
$(BUILD)/fuzz/fuzz_cli: $(BUILD)/fuzz/fuzz_cli.o $(BUILD)/fuzz/driver.o \
    $(CLI_PARSER_OBJ) $(LIB)
	$(Q)$(CC) $(ALL_CFLAGS) $(HARDLD) -o $@ $^ $(LDLIBS)

# Installs the Debian packages the build and the tests need, when missing.
DEB_PKGS = build-essential pkg-config libsodium-dev liblmdb-dev libgit2-dev \
	   libargon2-dev libjansson-dev libcmocka-dev git openssh-client \
	   clang-format zlib1g-dev libcbor-dev nettle-dev
deps:
	@missing=; for p in $(DEB_PKGS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
	    $$missing >/dev/null; \
	fi

check: $(BIN) $(DAEMON) $(TESTS) $(FUZZERS)
	@BUILD=$(BUILD) sh tests/run.sh

test:
	@$(MAKE) -s deps
	@$(MAKE) -s check

asan:
	@$(MAKE) -s deps
	@$(MAKE) -s BUILD=build-asan SAN=1 check

demo:
	@$(MAKE) -s deps
	@$(MAKE) -s $(BIN)
	@sh tests/demo.sh $(BIN)

bench:
	@$(MAKE) -s deps
	@$(MAKE) -s $(BENCHES)
	@sh bench/run.sh $(BUILD)

fuzz-build: $(FUZZERS)

# libFuzzer builds (clang): make fuzz FUZZ=fuzz_record
fuzz: $(BUILD)/gen/embedded.c
	@mkdir -p $(BUILD)/libfuzzer
	clang -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS) \
	  $(PKG_CFLAGS) -o $(BUILD)/libfuzzer/$(FUZZ) fuzz/$(FUZZ).c \
	  $(if $(filter fuzz_cli,$(FUZZ)),$(filter-out src/cli/main.c,$(CLI_SRC))) \
	  $(LIB_SRC) $(BUILD)/gen/embedded.c $(LDLIBS)
	$(BUILD)/libfuzzer/$(FUZZ) -max_total_time=60 fuzz/corpus/$(FUZZ)

install: $(BIN) $(DAEMON)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/casevault

format:
	clang-format -i $(LIB_SRC) $(CLI_SRC) $(LIB_HDR) $(wildcard src/cli/*.h) \
	  $(DAEMON_SRC) $(wildcard src/daemon/*.h) include/casevault.h

format-check:
	@clang-format --dry-run --Werror $(LIB_SRC) $(CLI_SRC) \
	  $(LIB_HDR) $(wildcard src/cli/*.h) $(DAEMON_SRC) \
	  $(wildcard src/daemon/*.h) include/casevault.h

clean:
	rm -rf build build-asan demo-vault

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(DAEMON_OBJ:.o=.d) $(TESTS:=.d) $(BENCHES:=.d) \
	 $(FUZZERS:=.d) $(BUILD)/fuzz/driver.d
