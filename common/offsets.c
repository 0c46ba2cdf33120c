/*
 * offsets.c — the offset tracker (see offsets.h): a ring of offsets and
 * done flags, binary search to mark one done.
 */
#include "offsets.h"

#include <stdlib.h>

void nt_offsets_init(nt_offsets_t *t)
{
    *t = (nt_offsets_t){.committable = -1};
}

void nt_offsets_free(nt_offsets_t *t)
{
    free(t->offs);
    free(t->done);
    nt_offsets_init(t);
}

int nt_offsets_push(nt_offsets_t *t, int64_t off)
{
    if (t->count > 0 && off <= t->offs[(t->head + t->count - 1) % t->cap])
        return NT_EINVAL;
    if (t->count == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        int64_t *offs = malloc(ncap * sizeof(*offs));
        uint8_t *done = malloc(ncap);
        if (offs == NULL || done == NULL) {
            free(offs);
            free(done);
            return NT_ENOMEM;
        }
        for (size_t i = 0; i < t->count; i++) {
            offs[i] = t->offs[(t->head + i) % t->cap];
            done[i] = t->done[(t->head + i) % t->cap];
        }
        free(t->offs);
        free(t->done);
        t->offs = offs;
        t->done = done;
        t->cap = ncap;
        t->head = 0;
    }
    size_t at = (t->head + t->count) % t->cap;
    t->offs[at] = off;
    t->done[at] = 0;
    t->count++;
    return NT_OK;
}

void nt_offsets_done(nt_offsets_t *t, int64_t off)
{
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->offs[(t->head + mid) % t->cap] < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == t->count || t->offs[(t->head + lo) % t->cap] != off)
        return;
    t->done[(t->head + lo) % t->cap] = 1;
    while (t->count > 0 && t->done[t->head]) {
        t->committable = t->offs[t->head] + 1;
        t->head = (t->head + 1) % t->cap;
        t->count--;
        t->dirty = true;
    }
}

bool nt_offsets_take(nt_offsets_t *t, int64_t *off)
{
    if (!t->dirty)
        return false;
    t->dirty = false;
    *off = t->committable;
    return true;
}

size_t nt_offsets_pending(const nt_offsets_t *t)
{
    return t->count;
}
