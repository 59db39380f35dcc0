// Shared by import.c (reading the log, the filters, the order) and import_write.c (the items
// file and every output). Not a public interface.
#pragma once
#include <stdint.h>

#include "data/import.h"
#include "data/pidmap.h"

typedef struct {
    int32_t u, i;    // dense user / item index
    uint32_t ord;    // row in the file: the tie-break between duplicates with equal times
    float r;         // rating (0 without ratings)
    int64_t t;
} imp_event;

typedef struct {
    const import_options *o;
    import_stats *st;
    int has_rating;
    pid_index uix, iix;          // original id -> dense index
    int64_t *uid, *iid;          // dense index -> original id
    int64_t nu, ni, cap_u, cap_i;
    imp_event *ev;               // after import_order: by (user id, time, item id), users of >= 3 items
    int64_t nev, cap_ev;
    uint8_t *used;               // [ni] the item is in a kept sequence
    // the items file (import_write.c)
    char **caption;              // [ni], NULL: no text
    int32_t **tags;              // [ni], tags[i][0] = count, then tag ids
    pid_index tix;               // hash of a tag -> tag id
    char **tag_name;
    int64_t ntags, cap_tags;
    const char *tag_col;         // the column the tags came from (for the profile text)
} imp_state;

int imp_read_items(imp_state *s);
int imp_write(imp_state *s);
void imp_items_free(imp_state *s);
