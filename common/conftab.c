/*
 * conftab.c — the typed-configuration engine (see conftab.h).
 *
 * Every way in — text (defaults, flags, environment variables) and JSON (a
 * file, an admin request) — ends in set_text() on the key's row, so the
 * checks and the messages are the same whatever the source. A JSON value
 * is turned into text first: strictly (a number key wants a JSON number) or
 * loosely (any scalar as its text), as the program's table chooses.
 */
#include "conftab.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define NAME_MAX_LEN 256

const nt_conf_key_t *nt_conftab_find(const nt_conf_key_t *keys, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i].key, key) == 0)
            return &keys[i];
    return NULL;
}

/* What a message may show of a value. */
static const char *shown(const nt_conf_key_t *k, const char *value)
{
    return k->secret ? "****" : value;
}

static int set_text(const nt_conf_key_t *k, const char *name, void *base, const char *value,
                    const char *origin, nt_err_t *err)
{
    char *field = (char *)base + k->off;
    char *end = NULL;
    errno = 0;
    switch (k->type) {
    case NT_CONF_STR: {
        char *copy = strdup(value);
        if (copy == NULL)
            return nt_err_set(err, NT_ENOMEM, false, "out of memory");
        free(*(char **)(void *)field);
        *(char **)(void *)field = copy;
        return NT_OK;
    }
    case NT_CONF_CHARS:
        if (strlen(value) >= k->size)
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"%s\": value \"%s\" is longer than %zu characters", origin,
                              name, shown(k, value), k->size - 1);
        memcpy(field, value, strlen(value) + 1);
        return NT_OK;
    case NT_CONF_INT: {
        long long v = strtoll(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || (double)v < k->min || (double)v > k->max)
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"%s\": value \"%s\" is not an integer in [%.0f, %.0f]",
                              origin, name, shown(k, value), k->min, k->max);
        *(int *)(void *)field = (int)v;
        return NT_OK;
    }
    case NT_CONF_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0) {
            *(bool *)(void *)field = true;
        } else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0) {
            *(bool *)(void *)field = false;
        } else {
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"%s\": value \"%s\" is not a boolean (true or false)",
                              origin, name, shown(k, value));
        }
        return NT_OK;
    case NT_CONF_U64: {
        unsigned long long v = value[0] == '-' ? 0 : strtoull(value, &end, 10);
        if (value[0] == '-' || errno != 0 || end == value || *end != '\0')
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"%s\": value \"%s\" is not an unsigned integer", origin,
                              name, shown(k, value));
        *(uint64_t *)(void *)field = (uint64_t)v;
        return NT_OK;
    }
    case NT_CONF_DOUBLE: {
        double v = strtod(value, &end);
        if (errno != 0 || end == value || *end != '\0' || !isfinite(v) || v < k->min || v > k->max)
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"%s\": value \"%s\" is not a number in [%g, %g]", origin,
                              name, shown(k, value), k->min, k->max);
        *(double *)(void *)field = v;
        return NT_OK;
    }
    case NT_CONF_TIME: {
        int64_t ms;
        if (nt_clock_parse(value, &ms) != NT_OK)
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: key \"%s\": value \"%s\" is not an RFC 3339 time", origin, name,
                              shown(k, value));
        *(int64_t *)(void *)field = ms;
        return NT_OK;
    }
    case NT_CONF_CUSTOM:
        break;
    }
    return nt_err_set(err, NT_EINVAL, false, "%s: key \"%s\" cannot be set from text", origin,
                      name);
}

int nt_conftab_set(const nt_conf_key_t *k, void *base, const char *text, const char *origin,
                   nt_err_t *err)
{
    return set_text(k, k->key, base, text, origin, err);
}

static bool is_number_type(nt_conf_type_t t)
{
    return t == NT_CONF_INT || t == NT_CONF_U64 || t == NT_CONF_DOUBLE;
}

static int set_json(const nt_conf_key_t *k, const char *name, void *base, const cJSON *v,
                    unsigned flags, const char *origin, nt_err_t *err)
{
    char text[64];
    if (k->type == NT_CONF_CUSTOM)
        return k->set_json(k, base, v, origin, err);
    if (cJSON_IsString(v)) {
        if ((flags & NT_CONFTAB_STRICT_JSON) &&
            (k->type == NT_CONF_INT || k->type == NT_CONF_DOUBLE))
            return nt_err_set(err, NT_EINVAL, false, "%s: key \"%s\": want a number, not \"%s\"",
                              origin, name, shown(k, v->valuestring));
        return set_text(k, name, base, v->valuestring, origin, err);
    }
    if (cJSON_IsBool(v) && (!(flags & NT_CONFTAB_STRICT_JSON) || k->type == NT_CONF_BOOL))
        return set_text(k, name, base, cJSON_IsTrue(v) ? "true" : "false", origin, err);
    if (cJSON_IsNumber(v) && (flags & NT_CONFTAB_STRICT_JSON)) {
        double d = v->valuedouble;
        if (!is_number_type(k->type))
            return nt_err_set(err, NT_EINVAL, false, "%s: key \"%s\": wrong JSON type", origin,
                              name);
        if (k->type == NT_CONF_DOUBLE) {
            snprintf(text, sizeof(text), "%.17g", d);
        } else {
            if (d != floor(d) || fabs(d) > 9007199254740992.0)
                return nt_err_set(err, NT_EINVAL, false,
                                  "%s: key \"%s\": value %g is not an integer", origin, name, d);
            snprintf(text, sizeof(text), "%.0f", d);
        }
        return set_text(k, name, base, text, origin, err);
    }
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 9.2e18)
            snprintf(text, sizeof(text), "%lld", (long long)d);
        else
            snprintf(text, sizeof(text), "%.17g", d);
        return set_text(k, name, base, text, origin, err);
    }
    if (flags & NT_CONFTAB_STRICT_JSON)
        return nt_err_set(err, NT_EINVAL, false, "%s: key \"%s\": wrong JSON type", origin, name);
    return nt_err_set(err, NT_EINVAL, false, "%s: key \"%s\": must be a string, number or boolean",
                      origin, name);
}

int nt_conftab_set_json(const nt_conf_key_t *k, void *base, const cJSON *v, unsigned flags,
                        const char *origin, nt_err_t *err)
{
    return set_json(k, k->key, base, v, flags, origin, err);
}

typedef struct apply_s {
    const nt_conf_key_t *keys;
    size_t n;
    void *base;
    const char *scope;
    unsigned flags;
    nt_conftab_other_fn other;
    void *ctx;
    const char *origin;
} apply_t;

static int apply(const apply_t *a, const cJSON *obj, const char *prefix, nt_err_t *err)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        char name[NAME_MAX_LEN], show[NAME_MAX_LEN + 80];
        int len = snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "",
                           item->string ? item->string : "");
        snprintf(show, sizeof(show), "%s%s%s", a->scope ? a->scope : "", a->scope ? "." : "", name);
        if (len < 0 || (size_t)len >= sizeof(name))
            return nt_err_set(err, NT_EINVAL, false, "%s: key \"%.64s...\" is too long", a->origin,
                              show);
        const nt_conf_key_t *k = nt_conftab_find(a->keys, a->n, name);
        if (k == NULL && cJSON_IsObject(item)) {
            int rc = apply(a, item, name, err);
            if (rc != NT_OK)
                return rc;
            continue;
        }
        if (k == NULL) {
            int rc = a->other != NULL ? a->other(a->ctx, a->base, name, show, item, a->origin, err)
                                      : NT_ENOENT;
            if (rc == NT_ENOENT)
                return nt_err_set(err, NT_EINVAL, false, "%s: unknown key \"%s\"", a->origin, show);
            if (rc != NT_OK)
                return rc;
            continue;
        }
        if ((a->flags & NT_CONFTAB_RUNTIME_ONLY) && !k->runtime)
            return nt_err_set(err, NT_EINVAL, false, "%s: key \"%s\" cannot be changed at run time",
                              a->origin, show);
        int rc = set_json(k, show, a->base, item, a->flags, a->origin, err);
        if (rc != NT_OK)
            return rc;
    }
    return NT_OK;
}

int nt_conftab_apply_json(const nt_conf_key_t *keys, size_t n, void *base, const cJSON *obj,
                          const char *scope, unsigned flags, nt_conftab_other_fn other, void *ctx,
                          const char *origin, nt_err_t *err)
{
    apply_t a = {keys, n, base, scope, flags, other, ctx, origin};
    if (!cJSON_IsObject(obj))
        return nt_err_set(err, NT_EINVAL, false, "%s: want a JSON object", origin);
    return apply(&a, obj, "", err);
}

int nt_conftab_defaults(const nt_conf_key_t *keys, size_t n, void *base, nt_err_t *err)
{
    for (size_t i = 0; i < n; i++) {
        if (keys[i].def == NULL)
            continue;
        int rc = set_text(&keys[i], keys[i].key, base, keys[i].def, "default", err);
        if (rc != NT_OK)
            return rc;
    }
    return NT_OK;
}

void nt_conftab_free(const nt_conf_key_t *keys, size_t n, void *base)
{
    for (size_t i = 0; i < n; i++) {
        if (keys[i].type != NT_CONF_STR)
            continue;
        char **field = (char **)(void *)((char *)base + keys[i].off);
        free(*field);
        *field = NULL;
    }
}

int nt_conftab_format(const nt_conf_key_t *k, const void *base, nt_buf_t *out)
{
    const char *field = (const char *)base + k->off;
    switch (k->type) {
    case NT_CONF_STR: {
        const char *s = *(char *const *)(const void *)field;
        return nt_buf_puts(out, s != NULL ? s : "");
    }
    case NT_CONF_CHARS:
        return nt_buf_printf(out, "%.*s", (int)strnlen(field, k->size), field);
    case NT_CONF_INT:
        return nt_buf_printf(out, "%d", *(const int *)(const void *)field);
    case NT_CONF_BOOL:
        return nt_buf_puts(out, *(const bool *)(const void *)field ? "true" : "false");
    case NT_CONF_U64:
        return nt_buf_printf(out, "%" PRIu64, *(const uint64_t *)(const void *)field);
    case NT_CONF_DOUBLE:
        return nt_buf_printf(out, "%g", *(const double *)(const void *)field);
    case NT_CONF_TIME: {
        char ts[NT_RFC3339_LEN];
        nt_clock_format(*(const int64_t *)(const void *)field, ts);
        return nt_buf_puts(out, ts);
    }
    case NT_CONF_CUSTOM:
        break;
    }
    return NT_OK;
}

void nt_conftab_env_name(const char *prefix, const char *key, char *out, size_t outsz)
{
    size_t o = 0;
    if (outsz == 0)
        return;
    for (const char *p = prefix; *p && o + 1 < outsz; p++)
        out[o++] = *p;
    for (const char *p = key; *p && o + 1 < outsz; p++)
        out[o++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
    out[o] = '\0';
}

const char *nt_conftab_type_name(nt_conf_type_t type)
{
    static const char *const names[] = {
        [NT_CONF_STR] = "string",   [NT_CONF_CHARS] = "string",         [NT_CONF_INT] = "integer",
        [NT_CONF_BOOL] = "boolean", [NT_CONF_U64] = "unsigned integer", [NT_CONF_DOUBLE] = "number",
        [NT_CONF_TIME] = "time",    [NT_CONF_CUSTOM] = "object",
    };
    return (unsigned)type < NT_ARRAY_LEN(names) ? names[type] : "?";
}
