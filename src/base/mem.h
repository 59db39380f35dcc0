// Allocation that reports failure through err_* instead of aborting.
#pragma once
#include <stddef.h>

void *mem_alloc(size_t n);                 // NULL + message on failure
void *mem_calloc(size_t count, size_t size);
void *mem_realloc(void *p, size_t n);
void *mem_aligned(size_t n);               // 64-byte aligned, zeroed; release with free()
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t n);
char *mem_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
