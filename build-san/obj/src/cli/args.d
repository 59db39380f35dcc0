build-san/obj/src/cli/args.o: src/cli/args.c src/cli/args.h \
 src/base/err.h
src/cli/args.h:
src/base/err.h:
