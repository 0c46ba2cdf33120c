/*
 * offsets.h — one partition's offset tracker, as a value type: the offsets
 * handed out, in order, and which of them are finished. The offset to store
 * (committable: the last finished one + 1) moves only past a run of
 * finished offsets from the oldest on, so a crash redelivers what was not
 * finished and never skips it, however the jobs finished out of order.
 */
#ifndef NT_OFFSETS_H
#define NT_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct nt_offsets_s {
    int64_t *offs; /* ring of offsets handed out, ascending */
    uint8_t *done; /* ... and whether each is finished */
    size_t head, count, cap;
    int64_t committable; /* next offset to store; -1: none yet */
    bool dirty;          /* committable moved since the last nt_offsets_take */
} nt_offsets_t;

void nt_offsets_init(nt_offsets_t *t);
void nt_offsets_free(nt_offsets_t *t);

/* Records an offset handed out; offsets must ascend. 0, NT_EINVAL (not
 * above the last one) or NT_ENOMEM. */
int nt_offsets_push(nt_offsets_t *t, int64_t off) NT_MUSTCHECK;

/* Marks off finished (an unknown offset is ignored) and moves committable
 * past the finished run at the head. */
void nt_offsets_done(nt_offsets_t *t, int64_t off);

/* When committable moved since the last call: true and *off. */
bool nt_offsets_take(nt_offsets_t *t, int64_t *off);

/* Offsets handed out and not yet committable. */
size_t nt_offsets_pending(const nt_offsets_t *t);

#endif
