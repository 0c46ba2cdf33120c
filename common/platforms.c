/*
 * platforms.c — the platforms registry: platforms.json loaded, validated and
 * kept as plain structs (strings, pointer tables, value maps), with the
 * accessors the worker and the producer read (see platforms.h and
 * docs/platforms.md). Building requests and mapping answers is adapter.c's.
 */
#include "platforms.h"

#include "adapter.h" /* NT_SURFACES */

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "platforms_int.h"

/* ---- tables ---- */

static const char *const op_names[NT_OP_N] = {"check",         "check_batch",   "tag_update",
                                              "appeal_submit", "appeal_status", "tag_status",
                                              "renewal"};
static const char *const outcome_names[NT_OUTCOME_N] = {"ok",        "retryable", "rate_limited",
                                                        "permanent", "auth",      "rejected"};

static const char *const field_names[F_N] = {
    "cert_status", "trust_score", "label_android", "label_ios", "label_search", "marks",
    "mark_type",   "mark_count",  "ticket",        "state",     "reason",       "cert_expires"};

/* Which result fields each operation may map. */
static const unsigned op_fields[NT_OP_N] = {
    [NT_OP_CHECK] = (1u << F_CERT) | (1u << F_SCORE) | (1u << F_LABEL_ANDROID) |
                    (1u << F_LABEL_IOS) | (1u << F_LABEL_SEARCH) | (1u << F_MARKS) |
                    (1u << F_MARK_TYPE) | (1u << F_MARK_COUNT) | (1u << F_CERT_EXPIRES),
    [NT_OP_CHECK_BATCH] = (1u << F_CERT) | (1u << F_SCORE) | (1u << F_LABEL_ANDROID) |
                          (1u << F_LABEL_IOS) | (1u << F_LABEL_SEARCH) | (1u << F_MARKS) |
                          (1u << F_MARK_TYPE) | (1u << F_MARK_COUNT) | (1u << F_CERT_EXPIRES),
    [NT_OP_TAG_UPDATE] = (1u << F_TICKET) | (1u << F_STATE),
    [NT_OP_APPEAL_SUBMIT] = (1u << F_TICKET) | (1u << F_STATE),
    [NT_OP_APPEAL_STATUS] = (1u << F_STATE) | (1u << F_REASON),
    [NT_OP_TAG_STATUS] = (1u << F_STATE) | (1u << F_REASON),
    [NT_OP_RENEWAL] =
        (1u << F_TICKET) | (1u << F_STATE) | (1u << F_REASON) | (1u << F_CERT_EXPIRES),
};

const char *const nt_platforms_vmap_names[V_N] = {"cert_status", "mark", "tag_state",
                                                  "appeal_state", "renewal_state"};

/* The normalised vocabulary each value map must map into. */
static const char *const cert_values[] = {"certified", "pending", "expired", "revoked", "none"};
static const char *const mark_values[] = {"harassment",  "fraud",    "agency", "finance",
                                          "advertising", "delivery", "taxi",   "other"};
static const char *const tag_state_values[] = {"pending_review", "applied", "rejected"};
static const char *const appeal_state_values[] = {"submitted", "in_review", "approved", "rejected"};
static const char *const renewal_state_values[] = {"submitted", "renewed", "rejected"};

const vocab_t nt_platforms_vocabs[V_N] = {
    {cert_values, NT_ARRAY_LEN(cert_values)},
    {mark_values, NT_ARRAY_LEN(mark_values)},
    {tag_state_values, NT_ARRAY_LEN(tag_state_values)},
    {appeal_state_values, NT_ARRAY_LEN(appeal_state_values)},
    {renewal_state_values, NT_ARRAY_LEN(renewal_state_values)},
};

const char *nt_op_name(nt_op_t op)
{
    return (unsigned)op < NT_OP_N ? op_names[op] : "unknown";
}

const char *nt_outcome_name(nt_outcome_t outcome)
{
    return (unsigned)outcome < NT_OUTCOME_N ? outcome_names[outcome] : "unknown";
}

/* ---- loading ---- */

typedef struct loadctx_s {
    const char *origin;
    const char *pid; /* platform id being loaded, for messages */
    nt_err_t *err;
} loadctx_t;

static int lerr(loadctx_t *lc, const char *key, const char *fmt, ...) NT_PRINTF(3, 4);

static int lerr(loadctx_t *lc, const char *key, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return nt_err_set(lc->err, NT_EINVAL, false, "%s: platform %s: key %s: %s", lc->origin,
                      lc->pid ? lc->pid : "?", key, what);
}

/* Replaces ${NAME} with the environment's value. */
static int expand_env(loadctx_t *lc, const char *key, const char *in, char **out)
{
    nt_buf_t b;
    nt_buf_init(&b, 64 * 1024);
    const char *p = in;
    while (*p) {
        if (p[0] == '$' && p[1] == '{') {
            const char *end = strchr(p + 2, '}');
            if (end == NULL) {
                nt_buf_free(&b);
                return lerr(lc, key, "unterminated ${ in \"%s\"", in);
            }
            char name[128];
            size_t n = (size_t)(end - p - 2);
            if (n == 0 || n >= sizeof(name)) {
                nt_buf_free(&b);
                return lerr(lc, key, "bad variable name in \"%s\"", in);
            }
            memcpy(name, p + 2, n);
            name[n] = '\0';
            const char *v = getenv(name);
            if (v == NULL) {
                nt_buf_free(&b);
                return lerr(lc, key, "environment variable %s is not set", name);
            }
            if (nt_buf_puts(&b, v) != NT_OK) {
                nt_buf_free(&b);
                return lerr(lc, key, "value too long%s", "");
            }
            p = end + 1;
            continue;
        }
        if (nt_buf_putc(&b, *p) != NT_OK) {
            nt_buf_free(&b);
            return lerr(lc, key, "value too long%s", "");
        }
        p++;
    }
    *out = b.data ? b.data : strdup("");
    if (*out == NULL)
        return nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
    return NT_OK;
}

static int get_string(loadctx_t *lc, const cJSON *obj, const char *name, bool required, char **out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NULL;
    if (it == NULL) {
        if (required)
            return lerr(lc, name, "missing%s", "");
        return NT_OK;
    }
    if (!cJSON_IsString(it))
        return lerr(lc, name, "must be a string%s", "");
    return expand_env(lc, name, it->valuestring, out);
}

static int get_long(loadctx_t *lc, const cJSON *obj, const char *name, long def, long min, long max,
                    long *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = def;
    if (it == NULL)
        return NT_OK;
    if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) ||
        it->valuedouble < (double)min || it->valuedouble > (double)max) {
        char v[64];
        if (nt_json_scalar_text(it, v, sizeof(v)) != NT_OK)
            snprintf(v, sizeof(v), "(not a number)");
        return lerr(lc, name, "%s is not an integer in [%ld, %ld]", v, min, max);
    }
    *out = (long)it->valuedouble;
    return NT_OK;
}

static void kvlist_free(kvlist_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

/* Reads an object of scalars into a list of text pairs. */
static int load_kvlist(loadctx_t *lc, const cJSON *obj, const char *name, kvlist_t *l)
{
    if (obj == NULL)
        return NT_OK;
    if (!cJSON_IsObject(obj))
        return lerr(lc, name, "must be an object%s", "");
    size_t n = (size_t)cJSON_GetArraySize(obj);
    l->items = calloc(n ? n : 1, sizeof(*l->items));
    if (l->items == NULL)
        return nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        char v[512];
        if (nt_json_scalar_text(c, v, sizeof(v)) != NT_OK || cJSON_IsNull(c))
            return lerr(lc, name, "value of \"%s\" must be a string, number or boolean", c->string);
        l->items[l->n].key = strdup(c->string);
        l->items[l->n].value = NULL;
        if (l->items[l->n].key == NULL)
            return nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
        l->n++;
        int rc = expand_env(lc, name, v, &l->items[l->n - 1].value);
        if (rc != NT_OK)
            return rc;
    }
    return NT_OK;
}

static int load_pointer(loadctx_t *lc, const char *key, const char *s, char **out)
{
    if (!nt_json_pointer_is_valid(s))
        return lerr(lc, key, "\"%s\" is not a JSON pointer (RFC 6901)", s);
    *out = strdup(s);
    return *out ? NT_OK : nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
}

/* Expands {platform} and {var} placeholders in a pointer at load time. */
static int expand_pointer_vars(loadctx_t *lc, const nt_platform_t *p, const char *key,
                               const char *in, char **out)
{
    nt_buf_t b;
    nt_buf_init(&b, 4096);
    for (const char *s = in; *s;) {
        if (*s == '{') {
            const char *end = strchr(s, '}');
            if (end == NULL)
                goto bad;
            char name[64];
            size_t n = (size_t)(end - s - 1);
            if (n == 0 || n >= sizeof(name))
                goto bad;
            memcpy(name, s + 1, n);
            name[n] = '\0';
            const char *v = strcmp(name, "platform") == 0 ? p->id : kvlist_get(&p->vars, name);
            if (v == NULL) {
                nt_buf_free(&b);
                return lerr(lc, key, "unknown variable {%s} in pointer", name);
            }
            /* escape for a pointer token */
            for (const char *c = v; *c; c++) {
                int rc = *c == '~'   ? nt_buf_puts(&b, "~0")
                         : *c == '/' ? nt_buf_puts(&b, "~1")
                                     : nt_buf_putc(&b, *c);
                if (rc != NT_OK)
                    goto bad;
            }
            s = end + 1;
            continue;
        }
        if (nt_buf_putc(&b, *s++) != NT_OK)
            goto bad;
    }
    {
        int rc = load_pointer(lc, key, b.data ? b.data : "", out);
        nt_buf_free(&b);
        return rc;
    }
bad:
    nt_buf_free(&b);
    return lerr(lc, key, "bad placeholder in \"%s\"", in);
}

static int load_field(loadctx_t *lc, const nt_platform_t *p, const cJSON *it, const char *fname,
                      field_t *f)
{
    f->scale = 1.0;
    f->optional = false;
    const char *ptr = NULL;
    if (cJSON_IsString(it)) {
        ptr = it->valuestring;
    } else if (cJSON_IsObject(it)) {
        const cJSON *pp = cJSON_GetObjectItemCaseSensitive(it, "pointer");
        const cJSON *sc = cJSON_GetObjectItemCaseSensitive(it, "scale");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(it, "optional");
        if (!cJSON_IsString(pp))
            return lerr(lc, fname, "needs a \"pointer\" string%s", "");
        ptr = pp->valuestring;
        if (sc != NULL) {
            if (!cJSON_IsNumber(sc) || !(sc->valuedouble > 0))
                return lerr(lc, fname, "scale must be a positive number%s", "");
            f->scale = sc->valuedouble;
        }
        if (op != NULL) {
            if (!cJSON_IsBool(op))
                return lerr(lc, fname, "optional must be true or false%s", "");
            f->optional = cJSON_IsTrue(op);
        }
        for (const cJSON *c = it->child; c != NULL; c = c->next)
            if (strcmp(c->string, "pointer") && strcmp(c->string, "scale") &&
                strcmp(c->string, "optional"))
                return lerr(lc, fname, "unknown key \"%s\"", c->string);
    } else {
        return lerr(lc, fname, "must be a pointer string or an object%s", "");
    }
    return expand_pointer_vars(lc, p, fname, ptr, &f->pointer);
}

static int load_op(loadctx_t *lc, nt_platform_t *p, nt_op_t op, const cJSON *obj)
{
    opdef_t *d = &p->ops[op];
    char key[64];
    int rc;
    snprintf(key, sizeof(key), "ops.%s", op_names[op]);
    if (!cJSON_IsObject(obj))
        return lerr(lc, key, "must be an object%s", "");
    static const char *const allowed[] = {"method",      "path",  "body",        "result",
                                          "max_numbers", "items", "item_number", "item_error"};
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        bool ok = false;
        for (size_t i = 0; i < NT_ARRAY_LEN(allowed); i++)
            ok = ok || strcmp(c->string, allowed[i]) == 0;
        if (!ok ||
            (op != NT_OP_CHECK_BATCH &&
             (strcmp(c->string, "max_numbers") == 0 || strcmp(c->string, "items") == 0 ||
              strcmp(c->string, "item_number") == 0 || strcmp(c->string, "item_error") == 0)))
            return lerr(lc, key, "unknown key \"%s\"", c->string);
    }
    if ((rc = get_string(lc, obj, "method", true, &d->method)) != NT_OK ||
        (rc = get_string(lc, obj, "path", true, &d->path)) != NT_OK)
        return rc;
    for (const char *m = d->method; *m; m++)
        if (!isupper((unsigned char)*m))
            return lerr(lc, key, "method \"%s\" must be an upper-case HTTP verb", d->method);
    if (d->path[0] != '/')
        return lerr(lc, key, "path \"%s\" must start with /", d->path);
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(obj, "body");
    if (body != NULL && !cJSON_IsNull(body)) {
        d->body = cJSON_Duplicate(body, true);
        if (d->body == NULL)
            return nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
    }
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(obj, "result");
    if (!cJSON_IsObject(result))
        return lerr(lc, key, "needs a \"result\" object of pointers%s", "");
    for (const cJSON *c = result->child; c != NULL; c = c->next) {
        int fi = -1;
        for (int i = 0; i < F_N; i++)
            if (strcmp(c->string, field_names[i]) == 0)
                fi = i;
        if (fi < 0 || !(op_fields[op] & (1u << fi)))
            return lerr(lc, key, "result field \"%s\" is not one this operation maps", c->string);
        if ((rc = load_field(lc, p, c, c->string, &d->fields[fi])) != NT_OK)
            return rc;
    }
    if (op == NT_OP_CHECK || op == NT_OP_CHECK_BATCH) {
        if (d->fields[F_MARKS].pointer != NULL &&
            (d->fields[F_MARK_TYPE].pointer == NULL || d->fields[F_MARK_COUNT].pointer == NULL))
            return lerr(lc, key, "marks needs mark_type and mark_count%s", "");
    } else if (op == NT_OP_APPEAL_STATUS || op == NT_OP_TAG_STATUS) {
        if (d->fields[F_STATE].pointer == NULL)
            return lerr(lc, key, "result needs \"state\"%s", "");
    } else if (d->fields[F_TICKET].pointer == NULL || d->fields[F_STATE].pointer == NULL) {
        return lerr(lc, key, "result needs \"ticket\" and \"state\"%s", "");
    }
    if (op == NT_OP_CHECK_BATCH) {
        long maxn;
        if ((rc = get_long(lc, obj, "max_numbers", 0, 1, 10000, &maxn)) != NT_OK)
            return rc;
        if (maxn == 0)
            return lerr(lc, key, "needs max_numbers (1-10000)%s", "");
        d->max_numbers = (int)maxn;
        char *s = NULL;
        if ((rc = get_string(lc, obj, "items", true, &s)) != NT_OK)
            return rc;
        rc = load_pointer(lc, "items", s, &d->items);
        free(s);
        if (rc != NT_OK)
            return rc;
        if ((rc = get_string(lc, obj, "item_number", false, &s)) != NT_OK)
            return rc;
        if (s != NULL) {
            rc = load_pointer(lc, "item_number", s, &d->item_number);
            free(s);
            if (rc != NT_OK)
                return rc;
        }
        if ((rc = get_string(lc, obj, "item_error", false, &s)) != NT_OK)
            return rc;
        if (s != NULL) {
            rc = load_pointer(lc, "item_error", s, &d->item_error);
            free(s);
            if (rc != NT_OK)
                return rc;
        }
    }
    d->present = true;
    return NT_OK;
}

static int load_auth(loadctx_t *lc, nt_platform_t *p, const cJSON *obj)
{
    char *type = NULL;
    int rc = NT_OK;
    if (!cJSON_IsObject(obj))
        return lerr(lc, "auth", "must be an object with a \"type\"%s", "");
    if ((rc = get_string(lc, obj, "type", true, &type)) != NT_OK)
        return rc;
    if (strcmp(type, "none") == 0) {
        p->auth = AUTH_NONE;
    } else if (strcmp(type, "bearer") == 0) {
        char *env = NULL;
        p->auth = AUTH_BEARER;
        if ((rc = get_string(lc, obj, "token_env", true, &env)) == NT_OK) {
            const char *v = getenv(env);
            if (v == NULL || v[0] == '\0')
                rc = lerr(lc, "auth.token_env", "environment variable %s is not set", env);
            else if ((p->auth_secret = strdup(v)) == NULL)
                rc = nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
        }
        free(env);
    } else if (strcmp(type, "hmac-sha256") == 0) {
        char *kenv = NULL, *senv = NULL;
        p->auth = AUTH_HMAC;
        if ((rc = get_string(lc, obj, "key_env", true, &kenv)) == NT_OK &&
            (rc = get_string(lc, obj, "secret_env", true, &senv)) == NT_OK) {
            const char *k = getenv(kenv), *s = getenv(senv);
            if (k == NULL || k[0] == '\0')
                rc = lerr(lc, "auth.key_env", "environment variable %s is not set", kenv);
            else if (s == NULL || s[0] == '\0')
                rc = lerr(lc, "auth.secret_env", "environment variable %s is not set", senv);
            else if ((p->auth_key = strdup(k)) == NULL || (p->auth_secret = strdup(s)) == NULL)
                rc = nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
        }
        free(kenv);
        free(senv);
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(obj, "headers");
        static const char *const names[4] = {"key", "timestamp", "nonce", "signature"};
        static const char *const defs[4] = {"X-Nt-Key", "X-Nt-Timestamp", "X-Nt-Nonce",
                                            "X-Nt-Signature"};
        char **dst[4] = {&p->hdr_key, &p->hdr_ts, &p->hdr_nonce, &p->hdr_sig};
        for (int i = 0; rc == NT_OK && i < 4; i++) {
            const cJSON *v = h ? cJSON_GetObjectItemCaseSensitive(h, names[i]) : NULL;
            if (v != NULL && !cJSON_IsString(v))
                rc = lerr(lc, "auth.headers", "%s must be a header name", names[i]);
            else if ((*dst[i] = strdup(v ? v->valuestring : defs[i])) == NULL)
                rc = nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
        }
    } else {
        rc = lerr(lc, "auth.type", "\"%s\" is not none, bearer or hmac-sha256", type);
    }
    free(type);
    return rc;
}

static int load_errors(loadctx_t *lc, nt_platform_t *p, const cJSON *obj)
{
    int rc;
    p->err_default = NT_OUTCOME_PERMANENT;
    if (obj == NULL)
        return NT_OK;
    if (!cJSON_IsObject(obj))
        return lerr(lc, "errors", "must be an object%s", "");
    for (const cJSON *c = obj->child; c != NULL; c = c->next)
        if (strcmp(c->string, "status") && strcmp(c->string, "code") &&
            strcmp(c->string, "codes") && strcmp(c->string, "default") &&
            strcmp(c->string, "message"))
            return lerr(lc, "errors", "unknown key \"%s\"", c->string);
    if ((rc = load_kvlist(lc, cJSON_GetObjectItemCaseSensitive(obj, "status"), "errors.status",
                          &p->err_status)) != NT_OK ||
        (rc = load_kvlist(lc, cJSON_GetObjectItemCaseSensitive(obj, "codes"), "errors.codes",
                          &p->err_codes)) != NT_OK)
        return rc;
    nt_outcome_t o;
    for (size_t i = 0; i < p->err_status.n; i++) {
        const char *k = p->err_status.items[i].key;
        bool key_ok = strlen(k) == 3 && k[0] >= '1' && k[0] <= '5' &&
                      ((isdigit((unsigned char)k[1]) && isdigit((unsigned char)k[2])) ||
                       (k[1] == 'x' && k[2] == 'x'));
        if (!key_ok)
            return lerr(lc, "errors.status", "\"%s\" is not a status like 429 or 5xx", k);
        if (outcome_parse(p->err_status.items[i].value, &o) != NT_OK)
            return lerr(lc, "errors.status", "class \"%s\" is not a known class",
                        p->err_status.items[i].value);
    }
    for (size_t i = 0; i < p->err_codes.n; i++)
        if (outcome_parse(p->err_codes.items[i].value, &o) != NT_OK)
            return lerr(lc, "errors.codes", "class \"%s\" is not a known class",
                        p->err_codes.items[i].value);
    char *s = NULL;
    if ((rc = get_string(lc, obj, "code", false, &s)) != NT_OK)
        return rc;
    if (s != NULL) {
        rc = load_pointer(lc, "errors.code", s, &p->err_code);
        free(s);
        if (rc != NT_OK)
            return rc;
    }
    if ((rc = get_string(lc, obj, "message", false, &s)) != NT_OK)
        return rc;
    if (s != NULL) {
        rc = load_pointer(lc, "errors.message", s, &p->err_message);
        free(s);
        if (rc != NT_OK)
            return rc;
    }
    if ((rc = get_string(lc, obj, "default", false, &s)) != NT_OK)
        return rc;
    if (s != NULL) {
        rc = outcome_parse(s, &p->err_default);
        if (rc != NT_OK)
            rc = lerr(lc, "errors.default", "\"%s\" is not a known class", s);
        free(s);
    }
    return rc;
}

/* ---- prices, surfaces, format, callbacks, manual forms (issue 12) ---- */

static const char *const price_names[NT_PRICE_N] = {"check", "label_update", "appeal", "renewal"};
static const char *const surface_names[] = {"android", "ios", "search"};

const char *nt_price_name(nt_price_t what)
{
    return (unsigned)what < NT_PRICE_N ? price_names[what] : "unknown";
}

static int load_prices(loadctx_t *lc, nt_platform_t *p, const cJSON *obj)
{
    int rc;
    if (obj == NULL)
        return NT_OK;
    if (!cJSON_IsObject(obj))
        return lerr(lc, "prices", "must be an object of amounts and a currency%s", "");
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        bool known = strcmp(c->string, "currency") == 0;
        for (int i = 0; i < NT_PRICE_N; i++)
            known = known || strcmp(c->string, price_names[i]) == 0;
        if (!known)
            return lerr(lc, "prices",
                        "unknown key \"%s\" (check, label_update, appeal, renewal, "
                        "currency)",
                        c->string);
    }
    if ((rc = get_string(lc, obj, "currency", true, &p->currency)) != NT_OK)
        return rc;
    size_t n = strlen(p->currency);
    if (n != 3 || !isupper((unsigned char)p->currency[0]) ||
        !isupper((unsigned char)p->currency[1]) || !isupper((unsigned char)p->currency[2]))
        return lerr(lc, "prices.currency", "\"%s\" is not an ISO 4217 code such as CNY",
                    p->currency);
    for (int i = 0; i < NT_PRICE_N; i++) {
        char key[48];
        snprintf(key, sizeof(key), "prices.%s", price_names[i]);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, price_names[i]);
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1e9))
            return lerr(lc, key, "missing or not an amount in [0, 1e9]%s", "");
        p->prices[i] = v->valuedouble;
    }
    p->has_prices = true;
    return NT_OK;
}

static int load_surfaces(loadctx_t *lc, nt_platform_t *p, const cJSON *arr)
{
    p->surfaces = (1u << NT_SURFACES) - 1;
    if (arr == NULL)
        return NT_OK;
    unsigned bits = 0;
    const cJSON *c;
    if (!cJSON_IsArray(arr))
        return lerr(lc, "surfaces", "must be an array of android, ios, search%s", "");
    cJSON_ArrayForEach(c, arr)
    {
        int i = -1;
        for (int k = 0; cJSON_IsString(c) && k < NT_SURFACES; k++)
            if (strcmp(c->valuestring, surface_names[k]) == 0)
                i = k;
        if (i < 0)
            return lerr(lc, "surfaces", "want android, ios or search, not %s",
                        cJSON_IsString(c) ? c->valuestring : "a non-string");
        bits |= 1u << i;
    }
    if (bits == 0)
        return lerr(lc, "surfaces", "empty%s", "");
    p->surfaces = bits;
    return NT_OK;
}

/* The check operations may map a label only on the platform's surfaces. */
static int check_surfaces(loadctx_t *lc, const nt_platform_t *p)
{
    for (int op = NT_OP_CHECK; op <= NT_OP_CHECK_BATCH; op++)
        for (int s = 0; s < NT_SURFACES; s++)
            if (p->ops[op].fields[F_LABEL_ANDROID + s].pointer != NULL &&
                !(p->surfaces & (1u << s)))
                return lerr(lc, "surfaces", "%s maps label_%s, a surface not in \"surfaces\"",
                            op_names[op], surface_names[s]);
    return NT_OK;
}

static int load_callbacks(loadctx_t *lc, nt_platform_t *p, const cJSON *obj)
{
    static const char *const keys[] = {"secret_env",       "window_s", "timestamp_header",
                                       "signature_header", "kinds",    "fields"};
    static const char *const fields[] = {"kind", "ticket", "state", "seq", "time"};
    int rc;
    char *env = NULL;
    if (obj == NULL)
        return NT_OK;
    if (!cJSON_IsObject(obj))
        return lerr(lc, "callbacks", "must be an object%s", "");
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        bool known = false;
        for (size_t i = 0; i < NT_ARRAY_LEN(keys); i++)
            known = known || strcmp(c->string, keys[i]) == 0;
        if (!known)
            return lerr(lc, "callbacks", "unknown key \"%s\"", c->string);
    }
    if ((rc = get_string(lc, obj, "secret_env", true, &env)) != NT_OK)
        return rc;
    const char *secret = getenv(env);
    if (secret == NULL || secret[0] == '\0')
        rc = lerr(lc, "callbacks.secret_env", "environment variable %s is not set", env);
    else if ((p->cb_strings[0] = strdup(secret)) == NULL)
        rc = nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
    free(env);
    if (rc != NT_OK)
        return rc;
    p->cb.secret = p->cb_strings[0];
    if ((rc = get_long(lc, obj, "window_s", 300, 1, 86400, &p->cb.window_s)) != NT_OK ||
        (rc = get_string(lc, obj, "timestamp_header", false, &p->cb_strings[1])) != NT_OK ||
        (rc = get_string(lc, obj, "signature_header", false, &p->cb_strings[2])) != NT_OK)
        return rc;
    if ((p->cb_strings[1] == NULL &&
         (p->cb_strings[1] = strdup("X-Nt-Callback-Timestamp")) == NULL) ||
        (p->cb_strings[2] == NULL &&
         (p->cb_strings[2] = strdup("X-Nt-Callback-Signature")) == NULL))
        return nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
    p->cb.timestamp_header = p->cb_strings[1];
    p->cb.signature_header = p->cb_strings[2];
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, "fields");
    if (!cJSON_IsObject(f))
        return lerr(lc, "callbacks.fields", "missing: pointers to kind, ticket, state%s",
                    " (and seq, time)");
    for (const cJSON *c = f->child; c != NULL; c = c->next) {
        int fi = -1;
        for (size_t i = 0; i < NT_ARRAY_LEN(fields); i++)
            if (strcmp(c->string, fields[i]) == 0)
                fi = (int)i;
        if (fi < 0 || !cJSON_IsString(c))
            return lerr(lc, "callbacks.fields",
                        "\"%s\" is not kind, ticket, state, seq or time "
                        "with a pointer",
                        c->string);
        if ((rc = load_pointer(lc, "callbacks.fields", c->valuestring, &p->cb_strings[3 + fi])) !=
            NT_OK)
            return rc;
    }
    if (p->cb_strings[3] == NULL || p->cb_strings[4] == NULL || p->cb_strings[5] == NULL)
        return lerr(lc, "callbacks.fields", "needs kind, ticket and state%s", "");
    p->cb.kind = p->cb_strings[3];
    p->cb.ticket = p->cb_strings[4];
    p->cb.state = p->cb_strings[5];
    p->cb.seq = p->cb_strings[6];
    p->cb.time = p->cb_strings[7];
    if ((rc = load_kvlist(lc, cJSON_GetObjectItemCaseSensitive(obj, "kinds"), "callbacks.kinds",
                          &p->cb_kinds)) != NT_OK)
        return rc;
    if (p->cb_kinds.n == 0)
        return lerr(lc, "callbacks.kinds",
                    "missing: the platform's kinds, as \"appeal\" or "
                    "\"tag\"%s",
                    "");
    for (size_t i = 0; i < p->cb_kinds.n; i++)
        if (strcmp(p->cb_kinds.items[i].value, "appeal") != 0 &&
            strcmp(p->cb_kinds.items[i].value, "tag") != 0)
            return lerr(lc, "callbacks.kinds", "\"%s\" is not \"appeal\" or \"tag\"",
                        p->cb_kinds.items[i].value);
    p->has_callbacks = true;
    return NT_OK;
}

static int load_manual(loadctx_t *lc, nt_platform_t *p, const cJSON *obj)
{
    int rc;
    if (!p->manual) {
        if (obj != NULL)
            return lerr(lc, "manual", "only for \"dialect\": \"manual\"%s", "");
        return NT_OK;
    }
    for (int op = NT_OP_TAG_UPDATE; op < NT_OP_N; op++)
        if (p->ops[op].present)
            return lerr(lc, "ops", "a manual platform has no %s operation (a person submits)",
                        op_names[op]);
    if (!cJSON_IsObject(obj))
        return lerr(lc, "manual", "missing: {\"url\", \"tag_update\", \"appeal_submit\"}%s", "");
    for (const cJSON *c = obj->child; c != NULL; c = c->next)
        if (strcmp(c->string, "url") && strcmp(c->string, "tag_update") &&
            strcmp(c->string, "appeal_submit"))
            return lerr(lc, "manual", "unknown key \"%s\"", c->string);
    if ((rc = get_string(lc, obj, "url", true, &p->manual_url)) != NT_OK)
        return rc;
    p->manual_form = cJSON_CreateObject();
    if (p->manual_form == NULL)
        return nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
    static const char *const forms[] = {"tag_update", "appeal_submit"};
    for (size_t i = 0; i < NT_ARRAY_LEN(forms); i++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, forms[i]);
        if (!cJSON_IsObject(f))
            return lerr(lc, "manual", "%s: want an object of form fields", forms[i]);
        cJSON *dup = cJSON_Duplicate(f, true);
        if (dup == NULL || !cJSON_AddItemToObject(p->manual_form, forms[i], dup)) {
            cJSON_Delete(dup);
            return nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
        }
    }
    return NT_OK;
}

static int load_format(loadctx_t *lc, nt_platform_t *p, const cJSON *obj)
{
    char *s = NULL;
    int rc = get_string(lc, obj, "format", false, &s);
    if (rc != NT_OK || s == NULL)
        return rc;
    if (strcmp(s, "xml") == 0)
        p->xml = true;
    else if (strcmp(s, "json") != 0)
        rc = lerr(lc, "format", "\"%s\" is not json or xml", s);
    free(s);
    return rc;
}

static bool is_platform_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_' &&
            s[i] != '-')
            return false;
    return true;
}

static int load_platform(loadctx_t *lc, nt_platform_t *p, const cJSON *obj)
{
    int rc;
    static const char *const allowed[] = {"id",
                                          "name",
                                          "dialect",
                                          "base_url",
                                          "auth",
                                          "timeout_ms",
                                          "connect_timeout_ms",
                                          "rate_limit",
                                          "vars",
                                          "values",
                                          "errors",
                                          "ops",
                                          "format",
                                          "surfaces",
                                          "prices",
                                          "callbacks",
                                          "manual"};
    if (!cJSON_IsObject(obj))
        return nt_err_set(lc->err, NT_EINVAL, false, "%s: each platform must be an object",
                          lc->origin);
    if ((rc = get_string(lc, obj, "id", true, &p->id)) != NT_OK)
        return rc;
    lc->pid = p->id;
    if (!is_platform_id(p->id))
        return lerr(lc, "id", "\"%s\" is not [a-z0-9][a-z0-9_-]{0,62}", p->id);
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        bool ok = false;
        for (size_t i = 0; i < NT_ARRAY_LEN(allowed); i++)
            ok = ok || strcmp(c->string, allowed[i]) == 0;
        if (!ok)
            return lerr(lc, c->string, "unknown key%s", "");
    }
    if ((rc = get_string(lc, obj, "name", false, &p->name)) != NT_OK ||
        (rc = get_string(lc, obj, "dialect", false, &p->dialect)) != NT_OK ||
        (rc = get_string(lc, obj, "base_url", true, &p->base_url)) != NT_OK)
        return rc;
    if (p->name == NULL && (p->name = strdup(p->id)) == NULL)
        return nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
    if (p->dialect == NULL && (p->dialect = strdup("")) == NULL)
        return nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
    size_t bl = strlen(p->base_url);
    if (strncmp(p->base_url, "http://", 7) != 0 && strncmp(p->base_url, "https://", 8) != 0)
        return lerr(lc, "base_url", "\"%s\" is not an http:// or https:// URL", p->base_url);
    while (bl > 0 && p->base_url[bl - 1] == '/')
        p->base_url[--bl] = '\0';
    const char *host = strstr(p->base_url, "://") + 3;
    const char *slash = strchr(host, '/');
    p->base_path = slash ? slash : "";

    if ((rc = load_auth(lc, p, cJSON_GetObjectItemCaseSensitive(obj, "auth"))) != NT_OK)
        return rc;
    if ((rc = get_long(lc, obj, "timeout_ms", 5000, 10, 600000, &p->timeout_ms)) != NT_OK ||
        (rc = get_long(lc, obj, "connect_timeout_ms", 1000, 10, 600000, &p->connect_timeout_ms)) !=
            NT_OK)
        return rc;
    const cJSON *rl = cJSON_GetObjectItemCaseSensitive(obj, "rate_limit");
    if (rl != NULL) {
        long qps, burst;
        if (!cJSON_IsObject(rl))
            return lerr(lc, "rate_limit", "must be {\"qps\":N,\"burst\":N}%s", "");
        if ((rc = get_long(lc, rl, "qps", 0, 0, 10000000, &qps)) != NT_OK ||
            (rc = get_long(lc, rl, "burst", 0, 0, 10000000, &burst)) != NT_OK)
            return rc;
        p->qps = (double)qps;
        p->burst = (int)(burst > 0 ? burst : qps);
    }
    if ((rc = load_kvlist(lc, cJSON_GetObjectItemCaseSensitive(obj, "vars"), "vars", &p->vars)) !=
        NT_OK)
        return rc;
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(obj, "values");
    if (values != NULL && !cJSON_IsObject(values))
        return lerr(lc, "values", "must be an object%s", "");
    for (const cJSON *c = values ? values->child : NULL; c != NULL; c = c->next) {
        int vi = -1;
        for (int i = 0; i < V_N; i++)
            if (strcmp(c->string, nt_platforms_vmap_names[i]) == 0)
                vi = i;
        if (vi < 0)
            return lerr(lc, "values", "unknown map \"%s\"", c->string);
        char key[64];
        snprintf(key, sizeof(key), "values.%s", nt_platforms_vmap_names[vi]);
        if ((rc = load_kvlist(lc, c, key, &p->values[vi])) != NT_OK)
            return rc;
        for (size_t i = 0; i < p->values[vi].n; i++)
            if (!in_vocab(&nt_platforms_vocabs[vi], p->values[vi].items[i].value))
                return lerr(lc, key, "\"%s\" is not a normalised value",
                            p->values[vi].items[i].value);
    }
    if ((rc = load_errors(lc, p, cJSON_GetObjectItemCaseSensitive(obj, "errors"))) != NT_OK)
        return rc;
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(obj, "ops");
    if (!cJSON_IsObject(ops))
        return lerr(lc, "ops", "missing or not an object%s", "");
    for (const cJSON *c = ops->child; c != NULL; c = c->next) {
        int oi = -1;
        for (int i = 0; i < NT_OP_N; i++)
            if (strcmp(c->string, op_names[i]) == 0)
                oi = i;
        if (oi < 0)
            return lerr(lc, "ops", "unknown operation \"%s\"", c->string);
        if ((rc = load_op(lc, p, (nt_op_t)oi, c)) != NT_OK)
            return rc;
    }
    if (!p->ops[NT_OP_CHECK].present)
        return lerr(lc, "ops.check", "missing (every platform needs a check)%s", "");
    p->manual = strcmp(p->dialect, "manual") == 0;
    if ((rc = load_format(lc, p, obj)) != NT_OK ||
        (rc = load_surfaces(lc, p, cJSON_GetObjectItemCaseSensitive(obj, "surfaces"))) != NT_OK ||
        (rc = check_surfaces(lc, p)) != NT_OK ||
        (rc = load_prices(lc, p, cJSON_GetObjectItemCaseSensitive(obj, "prices"))) != NT_OK ||
        (rc = load_callbacks(lc, p, cJSON_GetObjectItemCaseSensitive(obj, "callbacks"))) != NT_OK ||
        (rc = load_manual(lc, p, cJSON_GetObjectItemCaseSensitive(obj, "manual"))) != NT_OK)
        return rc;
    return NT_OK;
}

/* ---- templates: "extends" (platforms.md, Templates) ---- */

#define EXTENDS_DEPTH 8

/* Merges src into the object dst: a member of src replaces dst's, except
 * that two objects merge member by member and null removes the member.
 * skip (may be NULL) names a member of src to leave out. */
static int merge_into(cJSON *dst, const cJSON *src, const char *skip)
{
    for (const cJSON *c = src->child; c != NULL; c = c->next) {
        if (skip != NULL && strcmp(c->string, skip) == 0)
            continue;
        cJSON *have = cJSON_GetObjectItemCaseSensitive(dst, c->string);
        if (cJSON_IsNull(c)) {
            cJSON_DeleteItemFromObjectCaseSensitive(dst, c->string);
            continue;
        }
        if (cJSON_IsObject(c) && cJSON_IsObject(have)) {
            if (merge_into(have, c, NULL) != NT_OK)
                return NT_ENOMEM;
            continue;
        }
        cJSON *dup = cJSON_Duplicate(c, true);
        if (dup == NULL)
            return NT_ENOMEM;
        if (have != NULL ? !cJSON_ReplaceItemInObjectCaseSensitive(dst, c->string, dup)
                         : !cJSON_AddItemToObject(dst, c->string, dup)) {
            cJSON_Delete(dup);
            return NT_ENOMEM;
        }
    }
    return NT_OK;
}

/* obj with its chain of templates applied ("extends": NAME, templates may
 * extend templates), as a new tree without "extends"; NULL with lc's error
 * set. */
static cJSON *resolve_extends(loadctx_t *lc, const cJSON *templates, const cJSON *obj, int depth)
{
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(obj, "extends");
    cJSON *out = NULL;
    if (ext == NULL) {
        if ((out = cJSON_Duplicate(obj, true)) == NULL)
            nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
        return out;
    }
    if (!cJSON_IsString(ext)) {
        lerr(lc, "extends", "want the name of a template%s", "");
        return NULL;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(templates, ext->valuestring);
    if (!cJSON_IsObject(t)) {
        lerr(lc, "extends", "\"%.64s\" is not an object of \"templates\"", ext->valuestring);
        return NULL;
    }
    if (depth >= EXTENDS_DEPTH) {
        lerr(lc, "extends", "\"%.64s\": templates extend each other more than %d deep (a cycle?)",
             ext->valuestring, EXTENDS_DEPTH);
        return NULL;
    }
    if ((out = resolve_extends(lc, templates, t, depth + 1)) == NULL)
        return NULL;
    if (merge_into(out, obj, "extends") != NT_OK) {
        nt_err_set(lc->err, NT_ENOMEM, false, "out of memory");
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

static void platform_free(nt_platform_t *p)
{
    free(p->id);
    free(p->name);
    free(p->dialect);
    free(p->base_url);
    free(p->auth_key);
    if (p->auth_secret != NULL) {
        memset(p->auth_secret, 0, strlen(p->auth_secret));
        free(p->auth_secret);
    }
    free(p->hdr_key);
    free(p->hdr_ts);
    free(p->hdr_nonce);
    free(p->hdr_sig);
    kvlist_free(&p->vars);
    for (int i = 0; i < V_N; i++)
        kvlist_free(&p->values[i]);
    kvlist_free(&p->err_status);
    kvlist_free(&p->err_codes);
    free(p->err_code);
    free(p->err_message);
    for (int i = 0; i < NT_OP_N; i++) {
        opdef_t *d = &p->ops[i];
        free(d->method);
        free(d->path);
        cJSON_Delete(d->body);
        for (int f = 0; f < F_N; f++)
            free(d->fields[f].pointer);
        free(d->items);
        free(d->item_number);
        free(d->item_error);
    }
    free(p->currency);
    if (p->cb_strings[0] != NULL)
        memset(p->cb_strings[0], 0, strlen(p->cb_strings[0]));
    for (size_t i = 0; i < NT_ARRAY_LEN(p->cb_strings); i++)
        free(p->cb_strings[i]);
    kvlist_free(&p->cb_kinds);
    free(p->manual_url);
    cJSON_Delete(p->manual_form);
}

void nt_platforms_free(nt_platforms_t *ps)
{
    if (ps == NULL)
        return;
    for (size_t i = 0; i < ps->n; i++)
        platform_free(&ps->items[i]);
    free(ps->items);
    free(ps);
}

nt_platforms_t *nt_platforms_parse(const char *text, size_t len, const char *origin, nt_err_t *err)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    nt_platforms_t *ps = NULL;
    loadctx_t lc = {origin, NULL, err};
    if (root == NULL || !cJSON_IsObject(root)) {
        nt_err_set(err, NT_EINVAL, false, "%s: not a JSON object", origin);
        goto fail;
    }
    for (const cJSON *c = root->child; c != NULL; c = c->next) {
        if (strcmp(c->string, "platforms") != 0 && strcmp(c->string, "templates") != 0) {
            nt_err_set(err, NT_EINVAL, false, "%s: unknown top-level key \"%s\"", origin,
                       c->string);
            goto fail;
        }
    }
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "platforms");
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
        nt_err_set(err, NT_EINVAL, false, "%s: \"platforms\" must be a non-empty array", origin);
        goto fail;
    }
    const cJSON *templates = cJSON_GetObjectItemCaseSensitive(root, "templates");
    if (templates != NULL && !cJSON_IsObject(templates)) {
        nt_err_set(err, NT_EINVAL, false, "%s: \"templates\" must be an object of objects", origin);
        goto fail;
    }
    ps = calloc(1, sizeof(*ps));
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (ps == NULL || (ps->items = calloc(n, sizeof(*ps->items))) == NULL) {
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
        goto fail;
    }
    for (const cJSON *c = arr->child; c != NULL; c = c->next) {
        nt_platform_t *p = &ps->items[ps->n];
        p->index = ps->n;
        ps->n++;
        const cJSON *cid = cJSON_GetObjectItemCaseSensitive(c, "id");
        lc.pid = cJSON_IsString(cid) ? cid->valuestring : NULL;
        cJSON *merged = cJSON_IsObject(c) ? resolve_extends(&lc, templates, c, 0) : NULL;
        if (cJSON_IsObject(c) && merged == NULL)
            goto fail;
        lc.pid = NULL;
        int lrc = load_platform(&lc, p, merged != NULL ? merged : c);
        cJSON_Delete(merged);
        if (lrc != NT_OK)
            goto fail;
        for (size_t j = 0; j + 1 < ps->n; j++) {
            if (strcmp(ps->items[j].id, p->id) == 0) {
                lerr(&lc, "id", "\"%s\" appears twice", p->id);
                goto fail;
            }
        }
    }
    cJSON_Delete(root);
    return ps;
fail:
    cJSON_Delete(root);
    nt_platforms_free(ps);
    return NULL;
}

nt_platforms_t *nt_platforms_load(const char *file, nt_err_t *err)
{
    nt_buf_t b;
    char chunk[8192];
    size_t n;
    nt_platforms_t *ps = NULL;
    FILE *fp = fopen(file, "rb");
    if (fp == NULL) {
        nt_err_set(err, NT_EINVAL, false, "platforms file %s: %s", file, strerror(errno));
        return NULL;
    }
    nt_buf_init(&b, 16 * 1024 * 1024);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        if (nt_buf_append(&b, chunk, n) != NT_OK) {
            nt_err_set(err, NT_EINVAL, false, "platforms file %s: larger than 16 MiB", file);
            goto out;
        }
    }
    ps = nt_platforms_parse(b.data ? b.data : "", b.len, file, err);
out:
    fclose(fp);
    nt_buf_free(&b);
    return ps;
}

size_t nt_platforms_count(const nt_platforms_t *ps)
{
    return ps->n;
}

const nt_platform_t *nt_platforms_at(const nt_platforms_t *ps, size_t i)
{
    return i < ps->n ? &ps->items[i] : NULL;
}

const nt_platform_t *nt_platforms_find(const nt_platforms_t *ps, const char *id)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->items[i].id, id) == 0)
            return &ps->items[i];
    return NULL;
}

const char *nt_platform_id(const nt_platform_t *p)
{
    return p->id;
}

size_t nt_platform_secrets(const nt_platform_t *p, const char **out, size_t max)
{
    const char *all[] = {p->auth_secret, p->auth_key, p->cb.secret};
    size_t n = 0;
    for (size_t i = 0; i < NT_ARRAY_LEN(all) && n < max; i++)
        if (all[i] != NULL && all[i][0] != '\0')
            out[n++] = all[i];
    return n;
}
const char *nt_platform_name(const nt_platform_t *p)
{
    return p->name;
}
const char *nt_platform_dialect(const nt_platform_t *p)
{
    return p->dialect;
}
bool nt_platform_has_op(const nt_platform_t *p, nt_op_t op)
{
    return (unsigned)op < NT_OP_N && p->ops[op].present;
}
int nt_platform_batch_max(const nt_platform_t *p)
{
    return p->ops[NT_OP_CHECK_BATCH].present ? p->ops[NT_OP_CHECK_BATCH].max_numbers : 0;
}
double nt_platform_qps(const nt_platform_t *p)
{
    return p->qps;
}
int nt_platform_burst(const nt_platform_t *p)
{
    return p->burst;
}
size_t nt_platform_index(const nt_platform_t *p)
{
    return p->index;
}

bool nt_platform_is_xml(const nt_platform_t *p)
{
    return p->xml;
}
bool nt_platform_is_manual(const nt_platform_t *p)
{
    return p->manual;
}
unsigned nt_platform_surfaces(const nt_platform_t *p)
{
    return p->surfaces;
}
bool nt_platform_price(const nt_platform_t *p, nt_price_t what, double *amount)
{
    if (!p->has_prices || (unsigned)what >= NT_PRICE_N)
        return false;
    *amount = p->prices[what];
    return true;
}
const char *nt_platform_currency(const nt_platform_t *p)
{
    return p->currency != NULL ? p->currency : "";
}
const nt_platform_callbacks_t *nt_platform_callbacks(const nt_platform_t *p)
{
    return p->has_callbacks ? &p->cb : NULL;
}
int nt_platform_callback_kind(const nt_platform_t *p, const char *kind)
{
    const char *v = kvlist_get(&p->cb_kinds, kind);
    if (v == NULL)
        return -1;
    return strcmp(v, "appeal") == 0 ? NT_OP_APPEAL_STATUS : NT_OP_TAG_UPDATE;
}
int nt_platform_map_state(const nt_platform_t *p, nt_op_t op, const char *text, char *out,
                          size_t outsz)
{
    int vi = op == NT_OP_TAG_UPDATE ? V_TAG_STATE : V_APPEAL_STATE;
    const char *mapped = p->values[vi].n > 0 ? kvlist_get(&p->values[vi], text) : text;
    if (mapped == NULL || !in_vocab(&nt_platforms_vocabs[vi], mapped))
        return NT_EINVAL;
    snprintf(out, outsz, "%s", mapped);
    return NT_OK;
}
const char *nt_platform_manual_url(const nt_platform_t *p)
{
    return p->manual_url;
}
const cJSON *nt_platform_manual_form(const nt_platform_t *p, nt_op_t op)
{
    if (p->manual_form == NULL)
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(
        p->manual_form, op == NT_OP_TAG_UPDATE ? "tag_update" : "appeal_submit");
}
