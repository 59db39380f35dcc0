build-san/obj/src/base/json.o: src/base/json.c src/base/json.h \
 src/base/err.h src/base/file.h
src/base/json.h:
src/base/err.h:
src/base/file.h:
