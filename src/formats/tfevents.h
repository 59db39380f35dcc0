// TensorBoard event files: a writer of scalar summaries (what training logs) and a reader (for our
// own tests and plots). Record framing and the Event protobuf are written by hand (no protobuf
// library): u64 length | u32 masked crc32c(length) | Event bytes | u32 masked crc32c(Event bytes).
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    FILE *fp;
    char *path;           // the events.out.tfevents.* file
    int flush_every;      // flush after this many records (1: every record; default 1)
    int pending;          // records written since the last flush
} tfevents_writer;

// Creates `dir` if needed and a new file dir/events.out.tfevents.<unix time>.<host> (".<pid>.<k>"
// is appended while that name exists), whose first record carries file_version "brain.Event:2".
// Event files are streams that TensorBoard reads while training runs, so they are appended to
// in place rather than written atomically; every record is whole after each flush.
int tfevents_open(tfevents_writer *w, const char *dir);
int tfevents_add_scalar(tfevents_writer *w, const char *tag, int64_t step, float value);
int tfevents_flush(tfevents_writer *w);
int tfevents_close(tfevents_writer *w);   // flushes; safe on a zeroed or already closed writer

typedef struct {
    char *tag;
    int64_t step;
    double wall_time;
    float value;
} tfevents_scalar;

// Reads every scalar summary value (simple_value) of an event file, checking both CRCs of every
// record. A damaged record is an error naming the file and the byte offset. Other events
// (file_version, graphs, images, ...) are skipped.
int tfevents_read(const char *path, tfevents_scalar **out, int *n);
void tfevents_scalars_free(tfevents_scalar *s, int n);

// crc32c (Castagnoli) and TensorFlow's masking of it, exposed for tests.
uint32_t tfevents_crc32c(const void *data, size_t n);
uint32_t tfevents_masked_crc(const void *data, size_t n);
