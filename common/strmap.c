/*
 * strmap.c — open-addressing string map with backward-shift deletion, so no
 * tombstones accumulate under heavy insert/delete churn (see strmap.h).
 */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot_s {
    char *key; /* NULL: empty */
    uint64_t hash;
    void *value;
} slot_t;

struct nt_strmap_s {
    slot_t *slots;
    size_t cap; /* power of two */
    size_t len;
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

nt_strmap_t *nt_strmap_new(void)
{
    nt_strmap_t *map = calloc(1, sizeof(*map));
    if (map == NULL)
        return NULL;
    map->cap = 64;
    map->slots = calloc(map->cap, sizeof(slot_t));
    if (map->slots == NULL) {
        free(map);
        return NULL;
    }
    return map;
}

void nt_strmap_free(nt_strmap_t *map)
{
    if (map == NULL)
        return;
    for (size_t i = 0; i < map->cap; i++)
        free(map->slots[i].key);
    free(map->slots);
    free(map);
}

static size_t find(const nt_strmap_t *map, const char *key, uint64_t h, bool *found)
{
    size_t mask = map->cap - 1;
    size_t i = (size_t)h & mask;
    while (map->slots[i].key != NULL) {
        if (map->slots[i].hash == h && strcmp(map->slots[i].key, key) == 0) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
    *found = false;
    return i;
}

void *nt_strmap_get(const nt_strmap_t *map, const char *key)
{
    bool found;
    size_t i = find(map, key, nt_strmap_hash(key), &found);
    return found ? map->slots[i].value : NULL;
}

static int grow(nt_strmap_t *map)
{
    size_t ncap = map->cap * 2;
    slot_t *ns = calloc(ncap, sizeof(slot_t));
    if (ns == NULL)
        return NT_ENOMEM;
    for (size_t i = 0; i < map->cap; i++) {
        if (map->slots[i].key == NULL)
            continue;
        size_t j = (size_t)map->slots[i].hash & (ncap - 1);
        while (ns[j].key != NULL)
            j = (j + 1) & (ncap - 1);
        ns[j] = map->slots[i];
    }
    free(map->slots);
    map->slots = ns;
    map->cap = ncap;
    return NT_OK;
}

int nt_strmap_put(nt_strmap_t *map, const char *key, void *value)
{
    if ((map->len + 1) * 4 > map->cap * 3 && grow(map) != NT_OK)
        return NT_ENOMEM;
    uint64_t h = nt_strmap_hash(key);
    bool found;
    size_t i = find(map, key, h, &found);
    if (found) {
        map->slots[i].value = value;
        return NT_OK;
    }
    char *copy = strdup(key);
    if (copy == NULL)
        return NT_ENOMEM;
    map->slots[i].key = copy;
    map->slots[i].hash = h;
    map->slots[i].value = value;
    map->len++;
    return NT_OK;
}

void *nt_strmap_del(nt_strmap_t *map, const char *key)
{
    bool found;
    size_t mask = map->cap - 1;
    size_t i = find(map, key, nt_strmap_hash(key), &found);
    if (!found)
        return NULL;
    void *value = map->slots[i].value;
    free(map->slots[i].key);
    map->slots[i].key = NULL;
    map->len--;
    /* backward-shift the following cluster */
    size_t j = (i + 1) & mask;
    while (map->slots[j].key != NULL) {
        size_t home = (size_t)map->slots[j].hash & mask;
        /* move slot j to i when home is not cyclically in (i, j] */
        bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            map->slots[i] = map->slots[j];
            map->slots[j].key = NULL;
            i = j;
        }
        j = (j + 1) & mask;
    }
    return value;
}

size_t nt_strmap_len(const nt_strmap_t *map)
{
    return map->len;
}
