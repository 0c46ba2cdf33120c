/*
 * simconf.c — the simulator's config table and its sources (see simconf.h).
 *
 * Each key is one row: dotted name, type, bounds, whether POST /admin/config
 * may change it, whether it is secret (never echoed in messages), and the
 * field it fills. Loading, flags, the environment and the admin API all go
 * through set_value() on that row.
 */
#include "simconf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

typedef enum { T_STR, T_INT, T_U64, T_DOUBLE, T_TIME, T_PLATFORMS } key_type_t;

typedef struct key_s {
    const char *name;
    key_type_t type;
    double min, max;
    bool runtime;
    bool secret;
    size_t offset;
    size_t size; /* T_STR: field size */
} conf_key_t;

#define F(field) offsetof(nt_simconf_t, field), sizeof(((nt_simconf_t *)0)->field)

static const conf_key_t keys[] = {
    {"listen", T_STR, 0, 0, false, false, F(listen)},
    {"seed", T_U64, 0, 0, false, false, F(seed)},
    {"log_level", T_STR, 0, 0, false, false, F(log_level)},
    {"credentials.hmac_key", T_STR, 0, 0, false, false, F(hmac_key)},
    {"credentials.hmac_secret", T_STR, 0, 0, false, true, F(hmac_secret)},
    {"credentials.max_skew_s", T_INT, 0, 86400 * 365, false, false, F(max_skew_s)},
    {"credentials.bearer_token", T_STR, 0, 0, false, true, F(bearer_token)},
    {"credentials.callback_secret", T_STR, 0, 0, false, true, F(callback_secret)},
    {"callbacks.url", T_STR, 0, 0, true, false, F(callback_url)},
    {"callbacks.rate_lost", T_DOUBLE, 0, 1, true, false, F(cb_rate_lost)},
    {"callbacks.rate_duplicate", T_DOUBLE, 0, 1, true, false, F(cb_rate_duplicate)},
    {"callbacks.rate_reorder", T_DOUBLE, 0, 1, true, false, F(cb_rate_reorder)},
    {"callbacks.rate_late", T_DOUBLE, 0, 1, true, false, F(cb_rate_late)},
    {"callbacks.rate_forged", T_DOUBLE, 0, 1, true, false, F(cb_rate_forged)},
    {"callbacks.late_ms", T_INT, 0, 3600000, true, false, F(cb_late_ms)},
    {"callbacks.retries", T_INT, 0, 10, true, false, F(cb_retries)},
    {"latency.base_ms", T_INT, 0, 600000, true, false, F(latency_base_ms)},
    {"latency.jitter_ms", T_INT, 0, 600000, true, false, F(latency_jitter_ms)},
    {"latency.tail_rate", T_DOUBLE, 0, 1, true, false, F(latency_tail_rate)},
    {"latency.tail_ms", T_INT, 0, 600000, true, false, F(latency_tail_ms)},
    {"faults.rate_5xx", T_DOUBLE, 0, 1, true, false, F(faults_rate_5xx)},
    {"faults.rate_timeout", T_DOUBLE, 0, 1, true, false, F(faults_rate_timeout)},
    {"faults.rate_malformed", T_DOUBLE, 0, 1, true, false, F(faults_rate_malformed)},
    {"rate_limit.qps", T_DOUBLE, 0, 1e9, true, false, F(rate_qps)},
    {"rate_limit.burst", T_INT, 0, 1000000000, true, false, F(rate_burst)},
    {"rate_limit.retry_after_s", T_INT, 1, 86400, true, false, F(rate_retry_after_s)},
    {"clock.speed", T_DOUBLE, 0, 1e9, true, false, F(clock_speed)},
    {"clock.start", T_TIME, 0, 0, false, false, F(clock_start_ms)},
    {"marks.initial_share", T_DOUBLE, 0, 1, false, false, F(marks_initial_share)},
    {"marks.weekly_rate_unmaintained", T_DOUBLE, 0, 1, false, false, F(marks_weekly_unmaintained)},
    {"marks.weekly_rate_maintained", T_DOUBLE, 0, 1, false, false, F(marks_weekly_maintained)},
    {"marks.unmaintained_after_days", T_INT, 0, 100000, false, false,
     F(marks_unmaintained_after_days)},
    {"review.tag_delay_s", T_INT, 0, 100000000, false, false, F(review_tag_delay_s)},
    {"review.appeal_in_review_after_s", T_INT, 0, 100000000, false, false,
     F(review_appeal_in_review_after_s)},
    {"review.appeal_decided_after_s", T_INT, 0, 100000000, false, false,
     F(review_appeal_decided_after_s)},
    {"review.appeal_approve_rate", T_DOUBLE, 0, 1, false, false, F(review_appeal_approve_rate)},
    {"review.forbidden_words", T_STR, 0, 0, false, false, F(review_forbidden_words)},
    {"review.qualification_words", T_STR, 0, 0, false, false, F(review_qualification_words)},
    {"review.qualification_verified_share", T_DOUBLE, 0, 1, false, false,
     F(review_qualification_verified_share)},
    {"review.renewal_delay_s", T_INT, 0, 100000000, false, false, F(review_renewal_delay_s)},
    {"certs.term_days", T_INT, 1, 36500, false, false, F(certs_term_days)},
    {"platforms", T_PLATFORMS, 0, 0, false, false, F(platforms)},
    {"max_batch", T_INT, 1, 10000, false, false, F(max_batch)},
    {"max_body_bytes", T_INT, 1024, 1 << 30, false, false, F(max_body_bytes)},
    {"max_header_bytes", T_INT, 1024, 1 << 20, false, false, F(max_header_bytes)},
    {"max_conns", T_INT, 1, 1000000, false, false, F(max_conns)},
    {"idle_timeout_s", T_INT, 1, 86400, false, false, F(idle_timeout_s)},
    {"max_records", T_INT, 1000, 100000000, false, false, F(max_records)},
};

void nt_simconf_defaults(nt_simconf_t *conf)
{
    memset(conf, 0, sizeof(*conf));
    snprintf(conf->listen, sizeof(conf->listen), "127.0.0.1:28080");
    conf->seed = 42;
    snprintf(conf->log_level, sizeof(conf->log_level), "info");
    snprintf(conf->hmac_key, sizeof(conf->hmac_key), "sim-key");
    snprintf(conf->hmac_secret, sizeof(conf->hmac_secret), "sim-secret");
    conf->max_skew_s = 300;
    snprintf(conf->bearer_token, sizeof(conf->bearer_token), "sim-token");
    snprintf(conf->callback_secret, sizeof(conf->callback_secret), "sim-callback-secret");
    conf->cb_late_ms = 3000;
    conf->cb_retries = 3;
    conf->rate_retry_after_s = 1;
    conf->clock_speed = 1.0;
    conf->clock_start_ms = nt_clock_days_from_civil(2026, 1, 1) * 86400000LL;
    conf->marks_initial_share = 0.15;
    conf->marks_weekly_unmaintained = 0.05;
    conf->marks_weekly_maintained = 0.005;
    conf->marks_unmaintained_after_days = 30;
    conf->review_tag_delay_s = 3600;
    conf->review_appeal_in_review_after_s = 600;
    conf->review_appeal_decided_after_s = 43200;
    conf->review_appeal_approve_rate = 0.8;
    snprintf(conf->review_forbidden_words, sizeof(conf->review_forbidden_words),
             "最,第一,国家级,100%%");
    snprintf(conf->review_qualification_words, sizeof(conf->review_qualification_words),
             "医师,律师,主任,教授,资质");
    conf->review_qualification_verified_share = 1.0;
    conf->review_renewal_delay_s = 86400;
    conf->certs_term_days = 365;
    conf->max_batch = 100;
    conf->max_body_bytes = 1048576;
    conf->max_header_bytes = 16384;
    conf->max_conns = 4096;
    conf->idle_timeout_s = 60;
    conf->max_records = 1000000;
}

static const conf_key_t *key_find(const char *name)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(keys); i++) {
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    }
    return NULL;
}

/* Shown value: secrets never appear in messages. */
static const char *shown(const conf_key_t *k, const char *value)
{
    return k->secret ? "****" : value;
}

/* The per-platform keys: dotted name inside one platforms[] entry, bounds,
 * and the field of nt_simconf_platform_t it fills. */
typedef struct pkey_s {
    const char *name;
    bool is_int;
    double min, max;
    size_t offset;
} pkey_t;

#define PF(field) offsetof(nt_simconf_platform_t, field)

static const pkey_t pkeys[] = {
    {"marks.initial_share", false, 0, 1, PF(marks_initial_share)},
    {"labels.shown_share", false, 0, 1, PF(labels_shown_share)},
    {"review.tag_delay_s", true, 0, 100000000, PF(review_tag_delay_s)},
    {"review.appeal_in_review_after_s", true, 0, 100000000, PF(review_appeal_in_review_after_s)},
    {"review.appeal_decided_after_s", true, 0, 100000000, PF(review_appeal_decided_after_s)},
    {"review.appeal_approve_rate", false, 0, 1, PF(review_appeal_approve_rate)},
};

static const char *const surface_names[] = {"android", "ios", "search"};

/* Applies one platforms[n] member (name may be dotted for nested objects). */
static int set_platform_key(nt_simconf_platform_t *p, size_t n, const char *name, const cJSON *v,
                            const char *origin, nt_err_t *err)
{
    if (cJSON_IsObject(v)) {
        const cJSON *c;
        cJSON_ArrayForEach(c, v)
        {
            char sub[96];
            snprintf(sub, sizeof(sub), "%s.%s", name, c->string);
            int rc = set_platform_key(p, n, sub, c, origin, err);
            if (rc != NT_OK)
                return rc;
        }
        return NT_OK;
    }
    if (strcmp(name, "id") == 0 || strcmp(name, "dialect") == 0)
        return NT_OK; /* read by the caller */
    if (strcmp(name, "seed") == 0) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble) ||
            v->valuedouble > 9007199254740992.0)
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"platforms[%zu].seed\": want an integer in [0, 2^53]",
                              origin, n);
        p->seed = (uint64_t)v->valuedouble;
        p->has_seed = true;
        return NT_OK;
    }
    if (strcmp(name, "surfaces") == 0) {
        const cJSON *c;
        unsigned bits = 0;
        int i = -1;
        if (cJSON_IsArray(v)) {
            cJSON_ArrayForEach(c, v)
            {
                i = -1;
                for (size_t k = 0; cJSON_IsString(c) && k < NT_ARRAY_LEN(surface_names); k++)
                    if (strcmp(c->valuestring, surface_names[k]) == 0)
                        i = (int)k;
                if (i < 0)
                    break;
                bits |= 1u << i;
            }
        }
        if (!cJSON_IsArray(v) || bits == 0 || (i < 0 && cJSON_GetArraySize(v) > 0))
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"platforms[%zu].surfaces\": want a non-empty array of "
                              "\"android\", \"ios\", \"search\"",
                              origin, n);
        p->surfaces = bits;
        return NT_OK;
    }
    for (size_t k = 0; k < NT_ARRAY_LEN(pkeys); k++) {
        const pkey_t *pk = &pkeys[k];
        if (strcmp(pk->name, name) != 0)
            continue;
        double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        if (!(d >= pk->min && d <= pk->max) || (pk->is_int && d != floor(d)))
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"platforms[%zu].%s\": want a%s number in [%g, %g]", origin,
                              n, name, pk->is_int ? "n integer" : "", pk->min, pk->max);
        char *field = (char *)p + pk->offset;
        if (pk->is_int)
            *(int *)(void *)field = (int)d;
        else
            *(double *)(void *)field = d;
        return NT_OK;
    }
    return nt_err_set(err, NT_EINVAL, false, "%s: unknown key \"platforms[%zu].%s\"", origin, n,
                      name);
}

static int set_platforms(nt_simconf_t *conf, const cJSON *arr, const char *origin, nt_err_t *err)
{
    if (!cJSON_IsArray(arr))
        return nt_err_set(err, NT_EINVAL, false, "%s: key \"platforms\": want an array", origin);
    size_t n = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(item, "dialect");
        if (n == NT_SIMCONF_MAX_PLATFORMS)
            return nt_err_set(err, NT_EINVAL, false, "%s: key \"platforms\": more than %d entries",
                              origin, NT_SIMCONF_MAX_PLATFORMS);
        if (!cJSON_IsString(id) || id->valuestring[0] == '\0' ||
            strlen(id->valuestring) >= NT_SIMCONF_NAME_MAX)
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"platforms[%zu].id\": want a non-empty string of at most "
                              "%d characters",
                              origin, n, NT_SIMCONF_NAME_MAX - 1);
        if (!cJSON_IsString(d) || strlen(d->valuestring) != 1 ||
            strchr("abcd", d->valuestring[0]) == NULL)
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"platforms[%zu].dialect\": want \"a\", \"b\", \"c\" or "
                              "\"d\"",
                              origin, n);
        nt_simconf_platform_t *p = &conf->platforms[n];
        memset(p, 0, sizeof(*p));
        snprintf(p->id, sizeof(p->id), "%s", id->valuestring);
        p->dialect = d->valuestring[0];
        p->surfaces = NT_SIM_SURF_ALL;
        p->marks_initial_share = -1;
        p->labels_shown_share = -1;
        p->review_tag_delay_s = -1;
        p->review_appeal_in_review_after_s = -1;
        p->review_appeal_decided_after_s = -1;
        p->review_appeal_approve_rate = -1;
        const cJSON *c;
        cJSON_ArrayForEach(c, item)
        {
            int rc = set_platform_key(p, n, c->string, c, origin, err);
            if (rc != NT_OK)
                return rc;
        }
        for (size_t j = 0; j < n; j++)
            if (strcmp(conf->platforms[j].id, p->id) == 0)
                return nt_err_set(err, NT_EINVAL, false,
                                  "%s: key \"platforms[%zu].id\": \"%s\" is declared twice", origin,
                                  n, p->id);
        n++;
    }
    conf->nplatforms = n;
    return NT_OK;
}

/* Sets key k from text. */
static int set_text(nt_simconf_t *conf, const conf_key_t *k, const char *value, const char *origin,
                    nt_err_t *err)
{
    char *field = (char *)conf + k->offset;
    char *end = NULL;
    errno = 0;
    switch (k->type) {
    case T_STR:
        if (strlen(value) >= k->size)
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"%s\": value \"%s\" is longer than %zu characters", origin,
                              k->name, shown(k, value), k->size - 1);
        snprintf(field, k->size, "%s", value);
        return NT_OK;
    case T_INT: {
        long long v = strtoll(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || v < (long long)k->min ||
            v > (long long)k->max)
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"%s\": value \"%s\" is not an integer in [%.0f, %.0f]",
                              origin, k->name, value, k->min, k->max);
        *(int *)(void *)field = (int)v;
        return NT_OK;
    }
    case T_U64: {
        if (value[0] == '-')
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"%s\": value \"%s\" is not an unsigned integer", origin,
                              k->name, value);
        unsigned long long v = strtoull(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0')
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"%s\": value \"%s\" is not an unsigned integer", origin,
                              k->name, value);
        *(uint64_t *)(void *)field = (uint64_t)v;
        return NT_OK;
    }
    case T_DOUBLE: {
        double v = strtod(value, &end);
        if (errno != 0 || end == value || *end != '\0' || !isfinite(v) || v < k->min || v > k->max)
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"%s\": value \"%s\" is not a number in [%g, %g]", origin,
                              k->name, value, k->min, k->max);
        *(double *)(void *)field = v;
        return NT_OK;
    }
    case T_TIME: {
        int64_t ms;
        if (strcmp(value, "now") == 0) /* the real time at start-up */
            ms = nt_clock_wall_ms() / 1000 * 1000;
        else if (nt_clock_parse(value, &ms) != NT_OK)
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"%s\": value \"%s\" is not an RFC 3339 time", origin,
                              k->name, value);
        *(int64_t *)(void *)field = ms;
        return NT_OK;
    }
    case T_PLATFORMS:
        break;
    }
    return nt_err_set(err, NT_EINVAL, false, "%s: key \"%s\" cannot be set from text", origin,
                      k->name);
}

/* Sets key k from a JSON value. */
static int set_json(nt_simconf_t *conf, const conf_key_t *k, const cJSON *v, const char *origin,
                    nt_err_t *err)
{
    char text[64];
    if (k->type == T_PLATFORMS)
        return set_platforms(conf, v, origin, err);
    if (cJSON_IsString(v)) {
        if (k->type == T_INT || k->type == T_DOUBLE)
            return nt_err_set(err, NT_EINVAL, false, "%s: key \"%s\": want a number, not \"%s\"",
                              origin, k->name, v->valuestring);
        return set_text(conf, k, v->valuestring, origin, err);
    }
    if (!cJSON_IsNumber(v) || k->type == T_STR || k->type == T_TIME)
        return nt_err_set(err, NT_EINVAL, false, "%s: key \"%s\": wrong JSON type", origin,
                          k->name);
    double d = v->valuedouble;
    if (k->type == T_DOUBLE) {
        snprintf(text, sizeof(text), "%.17g", d);
    } else {
        if (d != floor(d) || fabs(d) > 9007199254740992.0)
            return nt_err_set(err, NT_EINVAL, false, "%s: key \"%s\": value %g is not an integer",
                              origin, k->name, d);
        snprintf(text, sizeof(text), "%.0f", d);
    }
    return set_text(conf, k, text, origin, err);
}

static int apply_obj(nt_simconf_t *conf, const cJSON *obj, const char *prefix, const char *origin,
                     bool runtime_only, nt_err_t *err)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        char name[128];
        int n = snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", item->string);
        if (n < 0 || (size_t)n >= sizeof(name))
            return nt_err_set(err, NT_EINVAL, false, "%s: key \"%s...\" is too long", origin,
                              prefix);
        const conf_key_t *k = key_find(name);
        if (k == NULL && cJSON_IsObject(item)) {
            int rc = apply_obj(conf, item, name, origin, runtime_only, err);
            if (rc != NT_OK)
                return rc;
            continue;
        }
        if (k == NULL)
            return nt_err_set(err, NT_EINVAL, false, "%s: unknown key \"%s\"", origin, name);
        if (runtime_only && !k->runtime)
            return nt_err_set(err, NT_EINVAL, false, "%s: key \"%s\" cannot be changed at run time",
                              origin, name);
        int rc = set_json(conf, k, item, origin, err);
        if (rc != NT_OK)
            return rc;
    }
    return NT_OK;
}

int nt_simconf_apply_json(nt_simconf_t *conf, const cJSON *root, const char *origin,
                          bool runtime_only, nt_err_t *err)
{
    nt_simconf_t *tmp = NULL;
    int rc = NT_OK;

    if (!cJSON_IsObject(root))
        return nt_err_set(err, NT_EINVAL, false, "%s: want a JSON object", origin);
    tmp = malloc(sizeof(*tmp));
    if (tmp == NULL)
        return nt_err_set(err, NT_ENOMEM, false, "out of memory");
    *tmp = *conf;
    rc = apply_obj(tmp, root, "", origin, runtime_only, err);
    if (rc == NT_OK)
        rc = nt_simconf_validate(tmp, origin, err);
    if (rc == NT_OK)
        *conf = *tmp;
    free(tmp);
    return rc;
}

int nt_simconf_load_file(nt_simconf_t *conf, const char *path, nt_err_t *err)
{
    FILE *f = NULL;
    char *text = NULL;
    cJSON *root = NULL;
    int rc = NT_OK;
    long size;

    f = fopen(path, "rb");
    if (f == NULL) {
        rc = nt_err_set(err, NT_EINVAL, false, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        size > (1L << 24)) {
        rc = nt_err_set(err, NT_EINVAL, false, "%s: cannot read (or larger than 16 MiB)", path);
        goto out;
    }
    text = malloc((size_t)size + 1);
    if (text == NULL) {
        rc = nt_err_set(err, NT_ENOMEM, false, "out of memory");
        goto out;
    }
    if (fread(text, 1, (size_t)size, f) != (size_t)size) {
        rc = nt_err_set(err, NT_EINVAL, false, "%s: short read", path);
        goto out;
    }
    text[size] = '\0';
    root = cJSON_ParseWithLength(text, (size_t)size);
    if (root == NULL) {
        rc = nt_err_set(err, NT_EINVAL, false, "%s: not valid JSON (near byte %ld)", path,
                        cJSON_GetErrorPtr() ? (long)(cJSON_GetErrorPtr() - text) : 0L);
        goto out;
    }
    rc = nt_simconf_apply_json(conf, root, path, false, err);
out:
    cJSON_Delete(root);
    free(text);
    if (f != NULL)
        fclose(f);
    return rc;
}

int nt_simconf_set(nt_simconf_t *conf, const char *key, const char *value, const char *origin,
                   nt_err_t *err)
{
    const conf_key_t *k = key_find(key);
    if (k == NULL)
        return nt_err_set(err, NT_EINVAL, false, "%s: unknown key \"%s\"", origin, key);
    nt_simconf_t tmp = *conf;
    int rc = set_text(&tmp, k, value, origin, err);
    if (rc == NT_OK)
        rc = nt_simconf_validate(&tmp, origin, err);
    if (rc == NT_OK)
        *conf = tmp;
    return rc;
}

int nt_simconf_load_env(nt_simconf_t *conf, nt_err_t *err)
{
    static const struct {
        const char *var;
        const char *key;
    } vars[] = {
        {"NT_SIM_HMAC_KEY", "credentials.hmac_key"},
        {"NT_SIM_HMAC_SECRET", "credentials.hmac_secret"},
        {"NT_SIM_BEARER_TOKEN", "credentials.bearer_token"},
        {"NT_SIM_CALLBACK_SECRET", "credentials.callback_secret"},
        {"NT_SIM_CALLBACK_URL", "callbacks.url"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(vars); i++) {
        const char *v = getenv(vars[i].var);
        if (v == NULL)
            continue;
        int rc = nt_simconf_set(conf, vars[i].key, v, vars[i].var, err);
        if (rc != NT_OK)
            return rc;
    }
    return NT_OK;
}

int nt_simconf_validate(const nt_simconf_t *conf, const char *origin, nt_err_t *err)
{
    char host[64];
    int port;
    double sum = conf->faults_rate_5xx + conf->faults_rate_timeout + conf->faults_rate_malformed;
    if (sum > 1.0)
        return nt_err_set(err, NT_EINVAL, false,
                          "%s: faults.rate_5xx + faults.rate_timeout + faults.rate_malformed = "
                          "%g, want at most 1",
                          origin, sum);
    if (conf->review_appeal_decided_after_s < conf->review_appeal_in_review_after_s)
        return nt_err_set(err, NT_EINVAL, false,
                          "%s: review.appeal_decided_after_s (%d) is less than "
                          "review.appeal_in_review_after_s (%d)",
                          origin, conf->review_appeal_decided_after_s,
                          conf->review_appeal_in_review_after_s);
    for (size_t i = 0; i < conf->nplatforms; i++) {
        const nt_simconf_platform_t *p = &conf->platforms[i];
        int in_review = p->review_appeal_in_review_after_s >= 0
                            ? p->review_appeal_in_review_after_s
                            : conf->review_appeal_in_review_after_s;
        int decided = p->review_appeal_decided_after_s >= 0 ? p->review_appeal_decided_after_s
                                                            : conf->review_appeal_decided_after_s;
        if (decided < in_review)
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: platforms[%zu] (%s): appeal_decided_after_s (%d) is less than "
                              "appeal_in_review_after_s (%d)",
                              origin, i, p->id, decided, in_review);
    }
    if (conf->callback_url[0] != '\0' && strncmp(conf->callback_url, "http://", 7) != 0 &&
        strncmp(conf->callback_url, "https://", 8) != 0)
        return nt_err_set(err, NT_EINVAL, false,
                          "%s: key \"callbacks.url\": value \"%s\" is not an http(s) URL", origin,
                          conf->callback_url);
    if (conf->hmac_key[0] == '\0' || conf->hmac_secret[0] == '\0' ||
        conf->bearer_token[0] == '\0' || conf->callback_secret[0] == '\0')
        return nt_err_set(err, NT_EINVAL, false, "%s: credentials must not be empty", origin);
    if (nt_simconf_parse_listen(conf->listen, host, sizeof(host), &port) != NT_OK)
        return nt_err_set(err, NT_EINVAL, false,
                          "%s: key \"listen\": value \"%s\" is not IPv4-HOST:PORT", origin,
                          conf->listen);
    nt_log_level_t lvl;
    if (nt_log_level_parse(conf->log_level, &lvl) != NT_OK)
        return nt_err_set(err, NT_EINVAL, false,
                          "%s: key \"log_level\": value \"%s\" is not debug, info, warn or error",
                          origin, conf->log_level);
    return NT_OK;
}

int nt_simconf_parse_listen(const char *listen, char *host, size_t hostsz, int *port)
{
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || colon == listen || (size_t)(colon - listen) >= hostsz)
        return NT_EINVAL;
    char *end = NULL;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || p < 0 || p > 65535)
        return NT_EINVAL;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    *port = (int)p;
    return NT_OK;
}
