# LSIO build. Everything lands under build/ (or build-san/ with SAN=1).
#
#   make            library, CLI (build/lsio), C tests, Python extension
#   make demo       install deps, build, run the sample job
#   make test       install deps, build, run every test (plain, ASan+UBSan,
#                   fuzz smoke, pytest); last line "N passed, N failed"
#   make SAN=1      the same build with AddressSanitizer + UBSan
#   make fuzz       libFuzzer targets (clang) under build/fuzz/
#
# Sources are found by pattern, so a new file needs no Makefile change:
#   lib/<name>/*.c        -> build/liblsio.a and build/liblsio.so
#   tools/lsio/*.c        -> build/lsio
#   tests/<lib>/test_*.c  -> build/tests/<lib>_<name>
#   fuzz/fuzz_*.c         -> build/fuzz/fuzz_*

CC      ?= cc
SAN     ?= 0
ifeq ($(SAN),1)
  B       := build-san
  OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDSAN   := -fsanitize=address,undefined
else
  B       := build
  OPT     := -O2 -g
  LDSAN   :=
endif

LIBDIRS := $(sort $(dir $(wildcard lib/*/*.h lib/*/*.c)))
INCS    := $(patsubst %,-I%,$(LIBDIRS))
CFLAGS  := -std=c11 -D_GNU_SOURCE $(OPT) -Wall -Wextra -Werror -fPIC -pthread $(INCS) $(EXTRA_CFLAGS)
LIBS    := -luring -lcurl -lcjson -lexpat -lblosc -lzstd -llz4 -ldeflate -lz -lbz2 -llzma -lisal -laec -lopenjp2 -lpthread -lm

LIB_SRCS  := $(wildcard lib/*/*.c)
LIB_OBJS  := $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRCS))
TOOL_SRCS := $(wildcard tools/lsio/*.c)
TOOL_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(TOOL_SRCS))
TEST_SRCS := $(wildcard tests/*/test_*.c)
TEST_BINS := $(foreach s,$(TEST_SRCS),$(B)/tests/$(subst /,_,$(patsubst tests/%.c,%,$(s))))
TESTUTIL  := $(wildcard tests/common/*.c)
FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))

.PHONY: all lib tools tests python fuzz demo test clean deps
all: lib tools tests python

lib: $(B)/liblsio.a $(B)/liblsio.so
tools: $(B)/lsio
tests: $(TEST_BINS)

$(B)/obj/%.o: %.c $(wildcard lib/*/*.h) $(wildcard tests/common/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/common -c $< -o $@

$(B)/liblsio.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(B)/liblsio.so: $(LIB_OBJS)
	$(CC) -shared -o $@ $^ $(LDSAN) $(LIBS)

$(B)/lsio: $(TOOL_OBJS) $(B)/liblsio.a
	$(CC) -o $@ $(TOOL_OBJS) $(B)/liblsio.a $(LDSAN) $(LIBS)

# tests/<lib>/test_<x>.c -> build/tests/<lib>_test_<x>
define TEST_RULE
$(B)/tests/$(subst /,_,$(patsubst tests/%.c,%,$(1))): $(1) $(B)/liblsio.a $(TESTUTIL) $(wildcard tests/common/*.h) $(wildcard $(dir $(1))*.h)
	@mkdir -p $(B)/tests
	$(CC) $(CFLAGS) -Itests/common -o $$@ $(1) $(TESTUTIL) $(B)/liblsio.a $(LDSAN) $(LIBS)
endef
$(foreach s,$(TEST_SRCS),$(eval $(call TEST_RULE,$(s))))

# Fuzz targets: clang + libFuzzer + ASan/UBSan. The library is compiled once
# with the instrumentation (fuzzer-no-link) and linked into every target.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer-no-link,address,undefined -pthread $(INCS)
FUZZ_OBJS   := $(patsubst %.c,$(B)/fuzzobj/%.o,$(LIB_SRCS))
$(B)/fuzzobj/%.o: %.c $(wildcard lib/*/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c $< -o $@
$(B)/fuzz/%: fuzz/%.c $(FUZZ_OBJS) $(wildcard tests/common/*.h)
	@mkdir -p $(B)/fuzz
	clang $(FUZZ_CFLAGS) -Itests/common -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(LIBS)
fuzz: $(FUZZ_BINS)

# Python extension, built in place (python/lsio/_lsio*.so).
python: $(B)/liblsio.a
	@if [ -f python/setup.py ]; then cd python && LSIO_BUILD=$(abspath $(B)) /usr/bin/python3 setup.py -q build_ext --inplace >/dev/null; fi

deps:
	bash scripts/install-deps

demo: deps
	$(MAKE) -j$$(nproc) all
	bash scripts/demo

test: deps
	$(MAKE) -j$$(nproc) all
	$(MAKE) -j$$(nproc) SAN=1 lib tests tools
	$(MAKE) -j$$(nproc) fuzz
	bash tests/run-all

clean:
	rm -rf build build-san
