/*
 * platforms_int.h — private to common/platforms.c and common/adapter.c: the
 * parsed form of a platforms.json entry that the registry builds and the
 * adapter walks. Nothing else includes it; everyone else goes through
 * platforms.h and adapter.h.
 */
#ifndef NT_PLATFORMS_INT_H
#define NT_PLATFORMS_INT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "err.h"
#include "platforms.h"

/* Result fields an operation maps (platforms.md, Operations). */
enum {
    F_CERT,
    F_SCORE,
    F_LABEL_ANDROID,
    F_LABEL_IOS,
    F_LABEL_SEARCH,
    F_MARKS,
    F_MARK_TYPE,
    F_MARK_COUNT,
    F_TICKET,
    F_STATE,
    F_REASON,       /* tag_status, appeal_status, renewal: why (a rejection's reason) */
    F_CERT_EXPIRES, /* check, check_batch, renewal: the certification's expiry */
    F_N
};

/* Value maps (platforms.md, Value maps). */
enum { V_CERT, V_MARK, V_TAG_STATE, V_APPEAL_STATE, V_RENEWAL_STATE, V_N };

typedef struct vocab_s {
    const char *const *values;
    size_t n;
} vocab_t;

/* The map names ("cert_status", ...) and the normalised vocabulary each map
 * must map into; the mark vocabulary is in taxonomy order. */
extern const char *const nt_platforms_vmap_names[V_N];
extern const vocab_t nt_platforms_vocabs[V_N];

typedef enum { AUTH_NONE, AUTH_BEARER, AUTH_HMAC } auth_type_t;

typedef struct field_s {
    char *pointer; /* NULL: not mapped */
    double scale;
    bool optional;
} field_t;

typedef struct opdef_s {
    bool present;
    char *method;
    char *path;
    cJSON *body; /* template, owned */
    field_t fields[F_N];
    int max_numbers;
    char *items;
    char *item_number;
    char *item_error;
} opdef_t;

typedef struct kv_s {
    char *key;
    char *value;
} kv_t;

typedef struct kvlist_s {
    kv_t *items;
    size_t n;
} kvlist_t;

struct nt_platform_s {
    size_t index;
    char *id;
    char *name;
    char *dialect;
    char *base_url;
    const char *base_path; /* points into base_url: the path part, "" if none */
    auth_type_t auth;
    char *auth_key;    /* hmac key (from env) */
    char *auth_secret; /* hmac secret or bearer token (from env); never logged */
    char *hdr_key, *hdr_ts, *hdr_nonce, *hdr_sig;
    long timeout_ms;
    long connect_timeout_ms;
    double qps;
    int burst;
    kvlist_t vars;
    kvlist_t values[V_N];
    kvlist_t err_status; /* "429" / "4xx" -> class name */
    char *err_code;      /* pointer */
    kvlist_t err_codes;
    nt_outcome_t err_default;
    char *err_message; /* pointer */
    opdef_t ops[NT_OP_N];
    bool xml;    /* "format": "xml" */
    bool manual; /* "dialect": "manual" */
    unsigned surfaces;
    bool has_prices;
    double prices[NT_PRICE_N];
    char *currency;
    bool has_callbacks;
    nt_platform_callbacks_t cb; /* its strings are the owned ones below */
    char *cb_strings[8];
    kvlist_t cb_kinds; /* platform kind -> "appeal" | "tag" */
    char *manual_url;
    cJSON *manual_form; /* {"tag_update": {...}, "appeal_submit": {...}}, owned */
};

struct nt_platforms_s {
    nt_platform_t *items;
    size_t n;
};

static inline const char *kvlist_get(const kvlist_t *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].key, key) == 0)
            return l->items[i].value;
    return NULL;
}

static inline bool in_vocab(const vocab_t *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->values[i], s) == 0)
            return true;
    return false;
}

/* Parses an outcome class name ("retryable"). 0 or NT_EINVAL. */
static inline int outcome_parse(const char *s, nt_outcome_t *out)
{
    for (int i = 0; i < NT_OUTCOME_N; i++) {
        if (strcmp(s, nt_outcome_name((nt_outcome_t)i)) == 0) {
            *out = (nt_outcome_t)i;
            return NT_OK;
        }
    }
    return NT_EINVAL;
}

#endif
