// Packing tokenised samples into training rows of max_length tokens (reference section 6):
// samples are appended one after another; with cut_to_pad the sample that overflows fills the
// rest of the row and its tail is dropped; without it the row is padded and the sample starts the
// next row. Position ids restart at 0 for each sample; each sample is its own attention segment
// (unless full attention); padding is <|endoftext|> with no loss.
#pragma once
#include <stdint.h>

#define PACK_IGNORE (-100)   // label of a position without loss (as in PyTorch's cross-entropy)

// A tokenised sample. mask[i] = 1 when token i is a training target (it is predicted from i-1).
typedef struct {
    int32_t *ids;
    uint8_t *mask;
    int n, cap;
    int source;          // index into the trainer's list of source names (per-source loss)
} train_sample;

int train_sample_reserve(train_sample *s, int n);
int train_sample_copy(train_sample *dst, const train_sample *src);
int train_sample_trainable(const train_sample *s);   // number of masked-on targets after token 0
void train_sample_free(train_sample *s);

// One packed row. Arrays have `len` entries.
typedef struct {
    int len;             // max_length
    int pad_id;
    int fill;            // tokens of real samples so far
    int32_t *ids;        // input token ids
    int32_t *labels;     // next-token targets or PACK_IGNORE
    int32_t *pos;        // position ids, restarting per sample (and for the padding run)
    int32_t *seg;        // segment index of each token; the padding run is the last segment
    int16_t *src;        // source of each label (-1 where ignored)
    int nseg;            // segments, padding included after pack_row_finish
    int *seg_start;      // first token of each segment (len + 1 entries of room)
    int nsamples;        // samples (whole or cut) placed in this row
    int ntrain;          // labels != PACK_IGNORE
    int cut_tokens;      // tokens dropped by cut_to_pad
} pack_row;

int pack_row_init(pack_row *r, int len, int pad_id);
void pack_row_reset(pack_row *r);
void pack_row_free(pack_row *r);

typedef enum {
    PACK_ADDED = 0,      // the sample is in the row; the row has room left
    PACK_FULL = 1,       // the sample is in the row (possibly cut) and the row is full: finish it
    PACK_NO_ROOM = 2,    // the sample was not added (no cut_to_pad, it does not fit): finish the
                         // row, then add it to the next one
} pack_result;

// Appends a sample. A sample longer than the whole row is cut to the row even without cut_to_pad.
pack_result pack_row_add(pack_row *r, const train_sample *s, int cut_to_pad);
// Pads the rest of the row; with full_attention the whole row is one segment with positions
// 0..len-1 (labels still never cross a sample boundary).
void pack_row_finish(pack_row *r, int full_attention);
