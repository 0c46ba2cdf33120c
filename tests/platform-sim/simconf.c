/*
 * simconf.c — the simulator's config table and its sources (see simconf.h).
 *
 * Each key is one row: dotted name, type, default, bounds, whether it is
 * secret (never echoed in messages), whether POST /admin/config may change
 * it, and the field it fills. The engine that applies the rows is
 * common/conftab.c, shared with numtrust's own config: loading, flags, the
 * environment and the admin API all go through it. JSON is strict here: a
 * number key wants a JSON number.
 */
#include "simconf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conftab.h"
#include "log.h"

/* Rows: key, type, default, bounds, secret, field (F: fixed at start-up,
 * RT: POST /admin/config may change it), help. */
#define F(field)  NT_CONF_FIELD(nt_simconf_t, field)
#define RT(field) offsetof(nt_simconf_t, field), sizeof(((nt_simconf_t *)0)->field), true, NULL

static int set_platforms(const nt_conf_key_t *k, void *base, const cJSON *v, const char *origin,
                         nt_err_t *err);

static const nt_conf_key_t keys[] = {
    {"listen", NT_CONF_CHARS, "127.0.0.1:28080", 0, 0, false, F(listen), NULL},
    {"seed", NT_CONF_U64, "42", 0, 0, false, F(seed), NULL},
    {"log_level", NT_CONF_CHARS, "info", 0, 0, false, F(log_level), NULL},
    {"credentials.hmac_key", NT_CONF_CHARS, "sim-key", 0, 0, false, F(hmac_key), NULL},
    {"credentials.hmac_secret", NT_CONF_CHARS, "sim-secret", 0, 0, true, F(hmac_secret), NULL},
    {"credentials.max_skew_s", NT_CONF_INT, "300", 0, 86400 * 365, false, F(max_skew_s), NULL},
    {"credentials.bearer_token", NT_CONF_CHARS, "sim-token", 0, 0, true, F(bearer_token), NULL},
    {"credentials.callback_secret", NT_CONF_CHARS, "sim-callback-secret", 0, 0, true,
     F(callback_secret), NULL},
    {"callbacks.url", NT_CONF_CHARS, "", 0, 0, false, RT(callback_url), NULL},
    {"callbacks.rate_lost", NT_CONF_DOUBLE, "0", 0, 1, false, RT(cb_rate_lost), NULL},
    {"callbacks.rate_duplicate", NT_CONF_DOUBLE, "0", 0, 1, false, RT(cb_rate_duplicate), NULL},
    {"callbacks.rate_reorder", NT_CONF_DOUBLE, "0", 0, 1, false, RT(cb_rate_reorder), NULL},
    {"callbacks.rate_late", NT_CONF_DOUBLE, "0", 0, 1, false, RT(cb_rate_late), NULL},
    {"callbacks.rate_forged", NT_CONF_DOUBLE, "0", 0, 1, false, RT(cb_rate_forged), NULL},
    {"callbacks.late_ms", NT_CONF_INT, "3000", 0, 3600000, false, RT(cb_late_ms), NULL},
    {"callbacks.retries", NT_CONF_INT, "3", 0, 10, false, RT(cb_retries), NULL},
    {"latency.base_ms", NT_CONF_INT, "0", 0, 600000, false, RT(latency_base_ms), NULL},
    {"latency.jitter_ms", NT_CONF_INT, "0", 0, 600000, false, RT(latency_jitter_ms), NULL},
    {"latency.tail_rate", NT_CONF_DOUBLE, "0", 0, 1, false, RT(latency_tail_rate), NULL},
    {"latency.tail_ms", NT_CONF_INT, "0", 0, 600000, false, RT(latency_tail_ms), NULL},
    {"faults.rate_5xx", NT_CONF_DOUBLE, "0", 0, 1, false, RT(faults_rate_5xx), NULL},
    {"faults.rate_timeout", NT_CONF_DOUBLE, "0", 0, 1, false, RT(faults_rate_timeout), NULL},
    {"faults.rate_malformed", NT_CONF_DOUBLE, "0", 0, 1, false, RT(faults_rate_malformed), NULL},
    {"rate_limit.qps", NT_CONF_DOUBLE, "0", 0, 1e9, false, RT(rate_qps), NULL},
    {"rate_limit.burst", NT_CONF_INT, "0", 0, 1000000000, false, RT(rate_burst), NULL},
    {"rate_limit.retry_after_s", NT_CONF_INT, "1", 1, 86400, false, RT(rate_retry_after_s), NULL},
    {"clock.speed", NT_CONF_DOUBLE, "1", 0, 1e9, false, RT(clock_speed), NULL},
    {"clock.start", NT_CONF_TIME, "2026-01-01T00:00:00Z", 0, 0, false, F(clock_start_ms), NULL},
    {"marks.initial_share", NT_CONF_DOUBLE, "0.15", 0, 1, false, F(marks_initial_share), NULL},
    {"marks.weekly_rate_unmaintained", NT_CONF_DOUBLE, "0.05", 0, 1, false,
     F(marks_weekly_unmaintained), NULL},
    {"marks.weekly_rate_maintained", NT_CONF_DOUBLE, "0.005", 0, 1, false,
     F(marks_weekly_maintained), NULL},
    {"marks.unmaintained_after_days", NT_CONF_INT, "30", 0, 100000, false,
     F(marks_unmaintained_after_days), NULL},
    {"review.tag_delay_s", NT_CONF_INT, "3600", 0, 100000000, false, F(review_tag_delay_s), NULL},
    {"review.appeal_in_review_after_s", NT_CONF_INT, "600", 0, 100000000, false,
     F(review_appeal_in_review_after_s), NULL},
    {"review.appeal_decided_after_s", NT_CONF_INT, "43200", 0, 100000000, false,
     F(review_appeal_decided_after_s), NULL},
    {"review.appeal_approve_rate", NT_CONF_DOUBLE, "0.8", 0, 1, false,
     F(review_appeal_approve_rate), NULL},
    {"review.forbidden_words", NT_CONF_CHARS, "最,第一,国家级,100%", 0, 0, false,
     F(review_forbidden_words), NULL},
    {"review.qualification_words", NT_CONF_CHARS, "医师,律师,主任,教授,资质", 0, 0, false,
     F(review_qualification_words), NULL},
    {"review.qualification_verified_share", NT_CONF_DOUBLE, "1", 0, 1, false,
     F(review_qualification_verified_share), NULL},
    {"review.renewal_delay_s", NT_CONF_INT, "86400", 0, 100000000, false, F(review_renewal_delay_s),
     NULL},
    {"certs.term_days", NT_CONF_INT, "365", 1, 36500, false, F(certs_term_days), NULL},
    {"platforms", NT_CONF_CUSTOM, NULL, 0, 0, false, offsetof(nt_simconf_t, platforms),
     sizeof(((nt_simconf_t *)0)->platforms), false, set_platforms, NULL},
    {"max_batch", NT_CONF_INT, "100", 1, 10000, false, F(max_batch), NULL},
    {"max_body_bytes", NT_CONF_INT, "1048576", 1024, 1 << 30, false, F(max_body_bytes), NULL},
    {"max_header_bytes", NT_CONF_INT, "16384", 1024, 1 << 20, false, F(max_header_bytes), NULL},
    {"max_conns", NT_CONF_INT, "4096", 1, 1000000, false, F(max_conns), NULL},
    {"idle_timeout_s", NT_CONF_INT, "60", 1, 86400, false, F(idle_timeout_s), NULL},
    {"max_records", NT_CONF_INT, "1000000", 1000, 100000000, false, F(max_records), NULL},
};

#define NKEYS NT_ARRAY_LEN(keys)

void nt_simconf_defaults(nt_simconf_t *conf)
{
    nt_err_t err;
    memset(conf, 0, sizeof(*conf));
    if (nt_conftab_defaults(keys, NKEYS, conf, &err) != NT_OK) /* the tests would fail */
        NT_ERROR("simulator config defaults: %s", err.msg);
}

/* The per-platform keys: the same engine over nt_simconf_platform_t; id,
 * dialect, seed and surfaces are read by platform_key(). A key left unset
 * is -1: the global value applies. */
#define PF(field) NT_CONF_FIELD(nt_simconf_platform_t, field)

static const nt_conf_key_t pkeys[] = {
    {"marks.initial_share", NT_CONF_DOUBLE, NULL, 0, 1, false, PF(marks_initial_share), NULL},
    {"labels.shown_share", NT_CONF_DOUBLE, NULL, 0, 1, false, PF(labels_shown_share), NULL},
    {"review.tag_delay_s", NT_CONF_INT, NULL, 0, 100000000, false, PF(review_tag_delay_s), NULL},
    {"review.appeal_in_review_after_s", NT_CONF_INT, NULL, 0, 100000000, false,
     PF(review_appeal_in_review_after_s), NULL},
    {"review.appeal_decided_after_s", NT_CONF_INT, NULL, 0, 100000000, false,
     PF(review_appeal_decided_after_s), NULL},
    {"review.appeal_approve_rate", NT_CONF_DOUBLE, NULL, 0, 1, false,
     PF(review_appeal_approve_rate), NULL},
};

static const char *const surface_names[] = {"android", "ios", "search"};

/* The members of a platforms[] entry that are not numbers of pkeys. */
static int platform_key(void *ctx, void *base, const char *name, const char *shown, const cJSON *v,
                        const char *origin, nt_err_t *err)
{
    nt_simconf_platform_t *p = base;
    (void)ctx;
    if (strcmp(name, "id") == 0 || strcmp(name, "dialect") == 0)
        return NT_OK; /* read by the caller */
    if (strcmp(name, "seed") == 0) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble) ||
            v->valuedouble > 9007199254740992.0)
            return nt_err_set(err, NT_EINVAL, false, "%s: key \"%s\": want an integer in [0, 2^53]",
                              origin, shown);
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
                              "%s: key \"%s\": want a non-empty array of \"android\", "
                              "\"ios\", \"search\"",
                              origin, shown);
        p->surfaces = bits;
        return NT_OK;
    }
    return NT_ENOENT;
}

static int set_platforms(const nt_conf_key_t *k, void *base, const cJSON *arr, const char *origin,
                         nt_err_t *err)
{
    nt_simconf_t *conf = base;
    (void)k;
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
        char scope[32];
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
        snprintf(scope, sizeof(scope), "platforms[%zu]", n);
        int rc = nt_conftab_apply_json(pkeys, NT_ARRAY_LEN(pkeys), p, item, scope,
                                       NT_CONFTAB_STRICT_JSON, platform_key, NULL, origin, err);
        if (rc != NT_OK)
            return rc;
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
    rc =
        nt_conftab_apply_json(keys, NKEYS, tmp, root, NULL,
                              NT_CONFTAB_STRICT_JSON | (runtime_only ? NT_CONFTAB_RUNTIME_ONLY : 0),
                              NULL, NULL, origin, err);
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
    const nt_conf_key_t *k = nt_conftab_find(keys, NKEYS, key);
    if (k == NULL)
        return nt_err_set(err, NT_EINVAL, false, "%s: unknown key \"%s\"", origin, key);
    char now[NT_RFC3339_LEN];
    if (k->type == NT_CONF_TIME && strcmp(value, "now") == 0) { /* the real time at start-up */
        nt_clock_format(nt_clock_wall_ms() / 1000 * 1000, now);
        value = now;
    }
    nt_simconf_t tmp = *conf;
    int rc = nt_conftab_set(k, &tmp, value, origin, err);
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
