build-san/obj/src/cli/main.o: src/cli/main.c src/base/log.h
src/base/log.h:
