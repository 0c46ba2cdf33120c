/*
 * strmap.c — a string-keyed map on the one hash table, common/htab.h (see
 * strmap.h): each entry holds its value and a copy of its key.
 */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "htab.h"

typedef struct entry_s {
    void *value;
    char key[]; /* NUL-terminated copy */
} entry_t;

struct nt_strmap_s {
    nt_htab_t t;
};

uint64_t nt_strmap_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static bool key_eq(const void *item, const void *key)
{
    return strcmp(((const entry_t *)item)->key, key) == 0;
}

nt_strmap_t *nt_strmap_new(void)
{
    nt_strmap_t *map = calloc(1, sizeof(*map));
    if (map != NULL)
        nt_htab_init(&map->t);
    return map;
}

void nt_strmap_free(nt_strmap_t *map)
{
    if (map == NULL)
        return;
    size_t it = 0;
    entry_t *e;
    while ((e = nt_htab_next(&map->t, &it)) != NULL)
        free(e);
    nt_htab_free(&map->t);
    free(map);
}

void *nt_strmap_get(const nt_strmap_t *map, const char *key)
{
    const entry_t *e = nt_htab_get(&map->t, nt_strmap_hash(key), key_eq, key);
    return e != NULL ? e->value : NULL;
}

int nt_strmap_put(nt_strmap_t *map, const char *key, void *value)
{
    uint64_t h = nt_strmap_hash(key);
    entry_t *e = nt_htab_get(&map->t, h, key_eq, key);
    if (e != NULL) {
        e->value = value;
        return NT_OK;
    }
    size_t n = strlen(key);
    if ((e = malloc(sizeof(*e) + n + 1)) == NULL)
        return NT_ENOMEM;
    e->value = value;
    memcpy(e->key, key, n + 1);
    if (nt_htab_put(&map->t, h, e) != NT_OK) {
        free(e);
        return NT_ENOMEM;
    }
    return NT_OK;
}

void *nt_strmap_del(nt_strmap_t *map, const char *key)
{
    entry_t *e = nt_htab_del(&map->t, nt_strmap_hash(key), key_eq, key);
    if (e == NULL)
        return NULL;
    void *value = e->value;
    free(e);
    return value;
}

size_t nt_strmap_len(const nt_strmap_t *map)
{
    return map->t.len;
}
