/*
 * htab.h — an open-addressing hash table of caller-owned items: the one hash
 * table of common/ and the simulator.
 *
 * The table stores each item's 64-bit hash and a pointer; the caller
 * computes hashes, compares keys through a callback, and owns (allocates and
 * frees) items. Linear probing; a deleted slot becomes a tombstone, so items
 * may be deleted while iterating (nt_htab_del_at); tombstones are cleared
 * when the table is rebuilt, at 70% of its slots used. nt_strmap (strmap.h)
 * is a string-keyed map on top of it; the simulator keeps its state
 * (numbers whose state changed, tickets, idempotency records, retry
 * deadlines) in tables of its own items.
 */
#ifndef NT_HTAB_H
#define NT_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* True when item has the key the caller is looking for. */
typedef bool (*nt_htab_eq)(const void *item, const void *key);

typedef struct nt_htab_s {
    uint64_t *hashes;
    void **items; /* NULL: empty slot; a tombstone marker after a delete */
    size_t cap;   /* slots, a power of two (0 before the first insert) */
    size_t len;   /* live items */
    size_t used;  /* live items + tombstones */
} nt_htab_t;

/* Initialises t as empty. No allocation. */
void nt_htab_init(nt_htab_t *t);

/* Releases the table's memory (not the items). t may be NULL. */
void nt_htab_free(nt_htab_t *t);

/* The item with this hash and key, or NULL. */
void *nt_htab_get(const nt_htab_t *t, uint64_t hash, nt_htab_eq eq, const void *key);

/* Adds item (whose key must not be present yet). NT_ENOMEM on failure. */
int nt_htab_put(nt_htab_t *t, uint64_t hash, void *item) NT_MUSTCHECK;

/* Removes and returns the item with this hash and key, or NULL. */
void *nt_htab_del(nt_htab_t *t, uint64_t hash, nt_htab_eq eq, const void *key);

/* Iterates: start with *iter = 0; returns the next item or NULL at the end.
 * The table must not change during the iteration, except through
 * nt_htab_del_at for the item just returned. */
void *nt_htab_next(const nt_htab_t *t, size_t *iter);

/* Removes the item nt_htab_next just returned. */
void nt_htab_del_at(nt_htab_t *t, size_t iter);

#endif
