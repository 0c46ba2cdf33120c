/*
 * strmap.h — a string-keyed hash map on the one hash table (htab.h).
 *
 * Used for per-number key locks in the worker and similar lookups. Keys are
 * copied; values are opaque pointers the caller owns.
 */
#ifndef NT_STRMAP_H
#define NT_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct nt_strmap_s nt_strmap_t;

/* @returns a new empty map; free with nt_strmap_free(). NULL on failure. */
nt_strmap_t *nt_strmap_new(void);

/* Frees the map and its key copies (not the values). map may be NULL. */
void nt_strmap_free(nt_strmap_t *map);

/* The value stored under key, or NULL. */
void *nt_strmap_get(const nt_strmap_t *map, const char *key);

/* Stores value under key (replacing any). 0 or NT_ENOMEM. value must not be
 * NULL. */
int nt_strmap_put(nt_strmap_t *map, const char *key, void *value) NT_MUSTCHECK;

/* Removes key; returns its value or NULL. */
void *nt_strmap_del(nt_strmap_t *map, const char *key);

size_t nt_strmap_len(const nt_strmap_t *map);

/* The map's hash: FNV-1a 64-bit, then h ^ (h >> 29) so that the low bits
 * the table indexes with depend on every input byte. */
uint64_t nt_strmap_hash(const char *s);

#endif
