build-san/obj/src/base/file.o: src/base/file.c src/base/file.h \
 src/base/err.h src/base/mem.h
src/base/file.h:
src/base/err.h:
src/base/mem.h:
