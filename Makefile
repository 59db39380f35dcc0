# onerec: one library (build/libonerec.a), one command (build/onerec), tests in build/tests/.
#   make            library + command          make test      build and run every test
#   make SAN=1 test the same under ASan/UBSan (outputs in build-san/)
#   make MPI=1      build with OpenMPI (mpicc) for data-parallel training
#   make mpi        the MPI flavour beside the plain build: build/mpi/onerec (relinks build/'s objects)
#   make bench      build the bench/ helpers (the bench/*.sh scripts call make themselves)
CC ?= gcc
ifeq ($(MPI),1)
  CC := mpicc
  CPPFLAGS_MPI := -DONEREC_MPI=1
endif
BUILD := build
OPT := -O3 -march=native
ifeq ($(SAN),1)
  BUILD := build-san
  OPT := -O1 -march=native -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  SANFLAGS := -fsanitize=address,undefined
endif
CPPFLAGS := -Isrc -I/usr/include/x86_64-linux-gnu/openblas-openmp $(CPPFLAGS_MPI) -MMD -MP
CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -fopenmp -fno-math-errno $(OPT) -g
LDFLAGS := -fopenmp $(SANFLAGS)
LDLIBS := -lmicrohttpd -lopenblas -lcjson -lpcre2-8 -lutf8proc -lzstd -lsnappy -llz4 -lz -lm -lpthread

LIB_SRC := $(sort $(wildcard src/base/*.c src/formats/*.c src/text/*.c src/model/*.c src/rec/*.c \
             src/data/*.c src/train/*.c src/post/*.c src/eval/*.c src/serve/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all test bench mpi clean
.SECONDARY:
all: $(BUILD)/libonerec.a $(BUILD)/onerec

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libonerec.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# cli objects are linked directly, not through an archive: main.c names every cmd_* function,
# so a missing or misspelt one fails the link
$(BUILD)/onerec: $(CLI_OBJ) $(BUILD)/libonerec.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libonerec.a $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(BUILD)/libonerec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libonerec.a $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BUILD)/libonerec.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libonerec.a $(LDLIBS)

test: all $(TEST_BIN)
	@BUILD=$(BUILD) bash tests/run.sh

bench: all $(BENCH_BIN)

# The MPI flavour in $(BUILD)/mpi/: only src/train/dist.c depends on ONEREC_MPI, so it alone is
# compiled again, by mpicc with the same flags as every other object, and the rest is relinked.
MPICC ?= mpicc
MPI_DIR := $(BUILD)/mpi
mpi: $(MPI_DIR)/onerec $(MPI_DIR)/tests/test_train_dist

$(MPI_DIR)/dist.o: src/train/dist.c
	@mkdir -p $(dir $@)
	$(MPICC) $(CPPFLAGS) -DONEREC_MPI=1 $(CFLAGS) -c $< -o $@

$(MPI_DIR)/libonerec.a: $(BUILD)/libonerec.a $(MPI_DIR)/dist.o
	cp $< $@
	ar r $@ $(MPI_DIR)/dist.o   # replaces the plain dist.o (single-process stubs)

$(MPI_DIR)/onerec: $(CLI_OBJ) $(MPI_DIR)/libonerec.a
	$(MPICC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(MPI_DIR)/libonerec.a $(LDLIBS)

$(MPI_DIR)/tests/%: $(BUILD)/obj/tests/%.o $(MPI_DIR)/libonerec.a
	@mkdir -p $(dir $@)
	$(MPICC) $(LDFLAGS) -o $@ $< $(MPI_DIR)/libonerec.a $(LDLIBS)

clean:
	rm -rf build build-san

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_BIN:$(BUILD)/tests/%=$(BUILD)/obj/tests/%.d)
