build-san/obj/tests/test_base.o: tests/test_base.c src/base/err.h \
 src/base/file.h src/base/json.h src/base/log.h src/base/mem.h \
 src/base/rng.h tests/test.h
src/base/err.h:
src/base/file.h:
src/base/json.h:
src/base/log.h:
src/base/mem.h:
src/base/rng.h:
tests/test.h:
