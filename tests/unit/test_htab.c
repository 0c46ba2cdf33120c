/*
 * test_htab.c — the one hash table (common/htab.h): items found by hash and
 * key, hash collisions told apart by the key, deletion while iterating
 * (every item visited once, the deleted ones gone), and churn that leaves the
 * table's size bounded by its live items (tombstones are cleared).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "err.h"
#include "htab.h"

typedef struct item_s {
    int key;
    int seen;
} item_t;

static bool eq(const void *item, const void *key)
{
    return ((const item_t *)item)->key == *(const int *)key;
}

/* A poor hash on purpose: 8 keys share each value, so probing and the key
 * comparison both matter. */
static uint64_t hash(int key)
{
    return (uint64_t)(key / 8) * 0x9e3779b97f4a7c15ULL;
}

static void test_get_put_del(void)
{
    enum { N = 2000 };
    static item_t items[N];
    nt_htab_t t;
    nt_htab_init(&t);
    CHECK(nt_htab_get(&t, hash(1), eq, &(int){1}) == NULL); /* empty, no allocation */
    for (int i = 0; i < N; i++) {
        items[i].key = i;
        CHECK_INT(nt_htab_put(&t, hash(i), &items[i]), NT_OK);
    }
    CHECK_INT(t.len, N);
    int wrong = 0;
    for (int i = 0; i < N; i++)
        wrong += nt_htab_get(&t, hash(i), eq, &i) != &items[i];
    int missing = N;
    wrong += nt_htab_get(&t, hash(missing), eq, &missing) != NULL;
    for (int i = 0; i < N; i += 3)
        wrong += nt_htab_del(&t, hash(i), eq, &i) != &items[i];
    for (int i = 0; i < N; i++)
        wrong += nt_htab_get(&t, hash(i), eq, &i) != (i % 3 == 0 ? NULL : &items[i]);
    CHECKF(wrong == 0, "%d wrong lookups", wrong);
    CHECK_INT(t.len, N - (N + 2) / 3);
    nt_htab_free(&t);
    CHECK_INT(t.cap, 0);
}

static void test_iterate_and_delete(void)
{
    enum { N = 1000 };
    static item_t items[N];
    nt_htab_t t;
    nt_htab_init(&t);
    for (int i = 0; i < N; i++) {
        items[i] = (item_t){i, 0};
        CHECK_INT(nt_htab_put(&t, hash(i), &items[i]), NT_OK);
    }
    size_t it = 0;
    item_t *x;
    while ((x = nt_htab_next(&t, &it)) != NULL) {
        x->seen++;
        if (x->key % 2)
            nt_htab_del_at(&t, it);
    }
    int wrong = 0;
    for (int i = 0; i < N; i++) {
        wrong += items[i].seen != 1;
        wrong += nt_htab_get(&t, hash(i), eq, &i) != (i % 2 ? NULL : &items[i]);
    }
    CHECKF(wrong == 0, "%d items visited other than once or wrong after deletion", wrong);
    CHECK_INT(t.len, N / 2);
    nt_htab_free(&t);
}

static void test_churn_bounded(void)
{
    enum { LIVE = 100, ROUNDS = 100000 };
    static item_t items[LIVE];
    nt_htab_t t;
    nt_htab_init(&t);
    for (int i = 0; i < LIVE; i++) {
        items[i].key = i;
        CHECK_INT(nt_htab_put(&t, hash(i), &items[i]), NT_OK);
    }
    size_t max_cap = 0;
    for (int r = 0; r < ROUNDS; r++) {
        int slot = r % LIVE, old = items[slot].key;
        if (nt_htab_del(&t, hash(old), eq, &old) != &items[slot]) {
            CHECKF(0, "round %d: key %d not found", r, old);
            break;
        }
        items[slot].key = old + LIVE; /* always a new key */
        CHECK(nt_htab_put(&t, hash(items[slot].key), &items[slot]) == NT_OK);
        if (t.cap > max_cap)
            max_cap = t.cap;
    }
    CHECK_INT(t.len, LIVE);
    CHECKF(max_cap <= 256, "%d live items grew the table to %zu slots", LIVE, max_cap);
    CHECKF(t.used * 10 < t.cap * 7, "used %zu of %zu slots", t.used, t.cap);
    nt_htab_free(&t);
}

int main(void)
{
    test_get_put_del();
    test_iterate_and_delete();
    test_churn_bounded();
    CHECK_DONE();
}
