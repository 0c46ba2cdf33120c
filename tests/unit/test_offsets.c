/*
 * test_offsets.c — the offset tracker (offsets.h): the offset to store only
 * ever moves past a run of finished offsets from the oldest on, whatever
 * order the jobs finish in, and never past an unfinished one.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "offsets.h"

typedef struct row_s {
    const char *name;
    int64_t pushed[8];
    size_t npushed;
    int64_t done[8]; /* in this order */
    size_t ndone;
    int64_t want; /* committable after the last done; -1: none */
    size_t pending;
} row_t;

static const row_t rows[] = {
    {"nothing done", {5, 6, 7}, 3, {0}, 0, -1, 3},
    {"in order", {5, 6, 7}, 3, {5, 6, 7}, 3, 8, 0},
    {"the oldest last", {5, 6, 7}, 3, {7, 6}, 2, -1, 3},
    {"the oldest last, then it", {5, 6, 7}, 3, {7, 6, 5}, 3, 8, 0},
    {"a gap stays", {5, 6, 7, 8}, 4, {5, 7, 8}, 3, 6, 3},
    {"sparse offsets (compacted topic)", {10, 20, 30}, 3, {10, 30}, 2, 11, 2},
    {"an unknown offset is ignored", {5, 6}, 2, {99, 5}, 2, 6, 1},
    {"done twice", {5, 6}, 2, {5, 5, 6}, 3, 7, 0},
};

int main(void)
{
    int ncases = 0;
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        const row_t *r = &rows[i];
        nt_offsets_t t;
        int64_t off = -1;
        nt_offsets_init(&t);
        for (size_t k = 0; k < r->npushed; k++)
            CHECKF(nt_offsets_push(&t, r->pushed[k]) == NT_OK, "%s: push %lld", r->name,
                   (long long)r->pushed[k]);
        for (size_t k = 0; k < r->ndone; k++)
            nt_offsets_done(&t, r->done[k]);
        bool moved = nt_offsets_take(&t, &off);
        CHECKF(moved == (r->want >= 0) && (!moved || off == r->want),
               "%s: moved %d to %lld, want %lld", r->name, moved, (long long)off,
               (long long)r->want);
        CHECKF(!nt_offsets_take(&t, &off), "%s: taken twice", r->name);
        CHECKF(nt_offsets_pending(&t) == r->pending, "%s: %zu pending, want %zu", r->name,
               nt_offsets_pending(&t), r->pending);
        nt_offsets_free(&t);
    }
    /* offsets must ascend */
    nt_offsets_t t;
    nt_offsets_init(&t);
    ncases++;
    CHECK_INT(nt_offsets_push(&t, 7), NT_OK);
    CHECK_INT(nt_offsets_push(&t, 7), NT_EINVAL);
    CHECK_INT(nt_offsets_push(&t, 3), NT_EINVAL);
    nt_offsets_free(&t);

    /* 10,000 offsets finished in a scrambled order, the ring growing and
     * wrapping: committable never passes an unfinished offset */
    ncases++;
    enum { N = 10000 };
    static int64_t order[N];
    static bool fin[N];
    nt_offsets_init(&t);
    for (int64_t k = 0; k < N; k++) {
        order[k] = k;
        CHECK_INT(nt_offsets_push(&t, 1000 + k), NT_OK);
    }
    srand(42);
    for (int k = N - 1; k > 0; k--) {
        int j = rand() % (k + 1);
        int64_t x = order[k];
        order[k] = order[j];
        order[j] = x;
    }
    int64_t last = -1;
    for (int k = 0; k < N; k++) {
        nt_offsets_done(&t, 1000 + order[k]);
        fin[order[k]] = true;
        int64_t off;
        if (nt_offsets_take(&t, &off)) {
            CHECKF(off > last, "committable went back: %lld after %lld", (long long)off,
                   (long long)last);
            for (int64_t x = 1000; x < off; x++)
                if (!fin[x - 1000]) {
                    CHECKF(0, "committable %lld passes unfinished %lld", (long long)off,
                           (long long)x);
                    break;
                }
            last = off;
        }
        /* with the rest pushed again behind: the ring wraps */
        if (k % 1000 == 999)
            CHECK_INT(nt_offsets_push(&t, 1000 + N + k), NT_OK);
    }
    CHECK_INT(last, 1000 + N);
    nt_offsets_free(&t);
    printf("test_offsets: %d cases\n", ncases);
    CHECK_DONE();
}
