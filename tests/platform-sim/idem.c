/*
 * idem.c — idempotency records in two hash tables (see idem.h): answers by
 * (scope, key) and call counts by key alone, as /admin/idempotency asks.
 */
#include "idem.h"

#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "rng.h"

typedef struct calls_s {
    uint64_t hash;
    uint64_t calls;
    char key[];
} calls_t;

struct nt_idem_s {
    nt_htab_t recs;
    nt_htab_t calls;
    size_t max_records;
    nt_idem_stats_t stats;
};

typedef struct rec_key_s {
    int scope;
    const char *key;
} rec_key_t;

static bool rec_eq(const void *item, const void *key)
{
    const nt_idem_rec_t *r = item;
    const rec_key_t *k = key;
    return r->scope == k->scope && strcmp(r->key, k->key) == 0;
}

static bool calls_eq(const void *item, const void *key)
{
    return strcmp(((const calls_t *)item)->key, key) == 0;
}

static uint64_t rec_hash(int scope, const char *key)
{
    return nt_rng_hash_str((uint64_t)scope * 0x9e3779b97f4a7c15ULL + 1, key);
}

nt_idem_t *nt_idem_new(size_t max_records)
{
    nt_idem_t *idem = calloc(1, sizeof(*idem));
    if (idem == NULL)
        return NULL;
    nt_htab_init(&idem->recs);
    nt_htab_init(&idem->calls);
    idem->max_records = max_records;
    return idem;
}

static void free_calls(nt_idem_t *idem)
{
    void *item;
    size_t it = 0;
    while ((item = nt_htab_next(&idem->calls, &it)) != NULL)
        free(item);
    nt_htab_free(&idem->calls);
}

void nt_idem_free(nt_idem_t *idem)
{
    if (idem == NULL)
        return;
    nt_idem_rec_t *r;
    size_t it = 0;
    while ((r = nt_htab_next(&idem->recs, &it)) != NULL) {
        free(r->key);
        free(r->body);
        free(r);
    }
    nt_htab_free(&idem->recs);
    free_calls(idem);
    free(idem);
}

const nt_idem_rec_t *nt_idem_find(const nt_idem_t *idem, int scope, const char *key)
{
    rec_key_t k = {scope, key};
    return nt_htab_get(&idem->recs, rec_hash(scope, key), rec_eq, &k);
}

int nt_idem_store(nt_idem_t *idem, int scope, const char *key, int status, const char *body,
                  size_t len)
{
    nt_idem_rec_t *r = NULL;
    if (idem->recs.len >= idem->max_records)
        return NT_ETOOBIG;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        goto fail;
    r->key = strdup(key);
    r->body = malloc(len + 1);
    if (r->key == NULL || r->body == NULL)
        goto fail;
    memcpy(r->body, body, len);
    r->body[len] = '\0';
    r->body_len = len;
    r->scope = scope;
    r->status = status;
    r->hash = rec_hash(scope, key);
    if (nt_htab_put(&idem->recs, r->hash, r) != NT_OK)
        goto fail;
    return NT_OK;
fail:
    if (r != NULL) {
        free(r->key);
        free(r->body);
        free(r);
    }
    return NT_ENOMEM;
}

void nt_idem_count_call(nt_idem_t *idem, const char *key)
{
    uint64_t h = nt_rng_hash_str(0, key);
    calls_t *c = nt_htab_get(&idem->calls, h, calls_eq, key);
    if (c == NULL) {
        size_t n = strlen(key);
        if (idem->calls.len >= idem->max_records)
            return;
        c = malloc(sizeof(*c) + n + 1);
        if (c == NULL)
            return;
        c->hash = h;
        c->calls = 0;
        memcpy(c->key, key, n + 1);
        if (nt_htab_put(&idem->calls, h, c) != NT_OK) {
            free(c);
            return;
        }
        idem->stats.keys++;
    } else {
        idem->stats.repeats++;
    }
    c->calls++;
    if (c->calls > idem->stats.max_calls)
        idem->stats.max_calls = c->calls;
}

uint64_t nt_idem_calls(const nt_idem_t *idem, const char *key)
{
    const calls_t *c = nt_htab_get(&idem->calls, nt_rng_hash_str(0, key), calls_eq, key);
    return c != NULL ? c->calls : 0;
}

nt_idem_stats_t nt_idem_stats(const nt_idem_t *idem)
{
    return idem->stats;
}

void nt_idem_reset_counts(nt_idem_t *idem)
{
    free_calls(idem);
    nt_htab_init(&idem->calls);
    memset(&idem->stats, 0, sizeof(idem->stats));
}
