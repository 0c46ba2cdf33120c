/*
 * htab.c — linear probing with tombstones, grown at 70% load (see htab.h).
 */
#include "htab.h"

#include <stdlib.h>

static char tomb_marker;
#define TOMB ((void *)&tomb_marker)

void nt_htab_init(nt_htab_t *t)
{
    t->hashes = NULL;
    t->items = NULL;
    t->cap = t->len = t->used = 0;
}

void nt_htab_free(nt_htab_t *t)
{
    if (t == NULL)
        return;
    free(t->hashes);
    free(t->items);
    nt_htab_init(t);
}

void *nt_htab_get(const nt_htab_t *t, uint64_t hash, nt_htab_eq eq, const void *key)
{
    if (t->cap == 0)
        return NULL;
    size_t mask = t->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        void *item = t->items[i];
        if (item == NULL)
            return NULL;
        if (item != TOMB && t->hashes[i] == hash && eq(item, key))
            return item;
    }
}

static int rehash(nt_htab_t *t, size_t cap)
{
    uint64_t *hashes = calloc(cap, sizeof(*hashes));
    void **items = calloc(cap, sizeof(*items));
    if (hashes == NULL || items == NULL) {
        free(hashes);
        free(items);
        return NT_ENOMEM;
    }
    for (size_t j = 0; j < t->cap; j++) {
        if (t->items[j] == NULL || t->items[j] == TOMB)
            continue;
        size_t i = t->hashes[j] & (cap - 1);
        while (items[i] != NULL)
            i = (i + 1) & (cap - 1);
        items[i] = t->items[j];
        hashes[i] = t->hashes[j];
    }
    free(t->hashes);
    free(t->items);
    t->hashes = hashes;
    t->items = items;
    t->cap = cap;
    t->used = t->len;
    return NT_OK;
}

int nt_htab_put(nt_htab_t *t, uint64_t hash, void *item)
{
    if ((t->used + 1) * 10 >= t->cap * 7) {
        size_t cap = t->cap ? t->cap : 64;
        while ((t->len + 1) * 10 >= cap * 5)
            cap *= 2;
        if (rehash(t, cap) != NT_OK)
            return NT_ENOMEM;
    }
    size_t mask = t->cap - 1;
    size_t i = hash & mask;
    while (t->items[i] != NULL && t->items[i] != TOMB)
        i = (i + 1) & mask;
    if (t->items[i] == NULL)
        t->used++;
    t->items[i] = item;
    t->hashes[i] = hash;
    t->len++;
    return NT_OK;
}

void *nt_htab_del(nt_htab_t *t, uint64_t hash, nt_htab_eq eq, const void *key)
{
    if (t->cap == 0)
        return NULL;
    size_t mask = t->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        void *item = t->items[i];
        if (item == NULL)
            return NULL;
        if (item != TOMB && t->hashes[i] == hash && eq(item, key)) {
            t->items[i] = TOMB;
            t->len--;
            return item;
        }
    }
}

void *nt_htab_next(const nt_htab_t *t, size_t *iter)
{
    while (*iter < t->cap) {
        void *item = t->items[(*iter)++];
        if (item != NULL && item != TOMB)
            return item;
    }
    return NULL;
}

void nt_htab_del_at(nt_htab_t *t, size_t iter)
{
    if (iter == 0 || iter > t->cap)
        return;
    void *item = t->items[iter - 1];
    if (item != NULL && item != TOMB) {
        t->items[iter - 1] = TOMB;
        t->len--;
    }
}
