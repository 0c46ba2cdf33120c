/*
 * adapter.c — platforms.json loading, request building and answer mapping
 * (see adapter.h and docs/platforms.md).
 *
 * The file is parsed once into plain structs (strings, pointer tables, value
 * maps); request building and answer mapping then walk those tables. Nothing
 * here knows a dialect by name: every difference between platforms is data.
 */
#include "adapter.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "json.h"
#include "phone.h"

/* ---- tables ---- */

static const char *const op_names[NT_OP_N] = {"check", "check_batch", "tag_update", "appeal_submit",
                                              "appeal_status"};
static const char *const outcome_names[NT_OUTCOME_N] = {"ok", "retryable", "rate_limited",
                                                        "permanent", "auth"};

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
    F_N
};

static const char *const field_names[F_N] = {
    "cert_status", "trust_score", "label_android", "label_ios", "label_search",
    "marks",       "mark_type",   "mark_count",    "ticket",    "state"};

/* Which result fields each operation may map. */
static const unsigned op_fields[NT_OP_N] = {
    [NT_OP_CHECK] = (1u << F_CERT) | (1u << F_SCORE) | (1u << F_LABEL_ANDROID) |
                    (1u << F_LABEL_IOS) | (1u << F_LABEL_SEARCH) | (1u << F_MARKS) |
                    (1u << F_MARK_TYPE) | (1u << F_MARK_COUNT),
    [NT_OP_CHECK_BATCH] = (1u << F_CERT) | (1u << F_SCORE) | (1u << F_LABEL_ANDROID) |
                          (1u << F_LABEL_IOS) | (1u << F_LABEL_SEARCH) | (1u << F_MARKS) |
                          (1u << F_MARK_TYPE) | (1u << F_MARK_COUNT),
    [NT_OP_TAG_UPDATE] = (1u << F_TICKET) | (1u << F_STATE),
    [NT_OP_APPEAL_SUBMIT] = (1u << F_TICKET) | (1u << F_STATE),
    [NT_OP_APPEAL_STATUS] = (1u << F_STATE),
};

enum { V_CERT, V_MARK, V_TAG_STATE, V_APPEAL_STATE, V_N };
static const char *const vmap_names[V_N] = {"cert_status", "mark", "tag_state", "appeal_state"};

/* The normalised vocabulary each value map must map into. */
static const char *const cert_values[] = {"certified", "pending", "expired", "revoked", "none"};
static const char *const mark_values[] = {"harassment",  "fraud",    "agency", "finance",
                                          "advertising", "delivery", "taxi",   "other"};
static const char *const tag_state_values[] = {"pending_review", "applied", "rejected"};
static const char *const appeal_state_values[] = {"submitted", "in_review", "approved", "rejected"};

typedef struct vocab_s {
    const char *const *values;
    size_t n;
} vocab_t;

static const vocab_t vocabs[V_N] = {
    {cert_values, NT_ARRAY_LEN(cert_values)},
    {mark_values, NT_ARRAY_LEN(mark_values)},
    {tag_state_values, NT_ARRAY_LEN(tag_state_values)},
    {appeal_state_values, NT_ARRAY_LEN(appeal_state_values)},
};

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
};

struct nt_platforms_s {
    nt_platform_t *items;
    size_t n;
};

const char *nt_op_name(nt_op_t op)
{
    return (unsigned)op < NT_OP_N ? op_names[op] : "unknown";
}

const char *nt_outcome_name(nt_outcome_t outcome)
{
    return (unsigned)outcome < NT_OUTCOME_N ? outcome_names[outcome] : "unknown";
}

static int outcome_parse(const char *s, nt_outcome_t *out)
{
    for (int i = 0; i < NT_OUTCOME_N; i++) {
        if (strcmp(s, outcome_names[i]) == 0) {
            *out = (nt_outcome_t)i;
            return NT_OK;
        }
    }
    return NT_EINVAL;
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

static const char *kvlist_get(const kvlist_t *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].key, key) == 0)
            return l->items[i].value;
    return NULL;
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

static bool in_vocab(const vocab_t *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->values[i], s) == 0)
            return true;
    return false;
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
    } else if (op == NT_OP_APPEAL_STATUS) {
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
    static const char *const allowed[] = {
        "id",         "name", "dialect", "base_url", "auth", "timeout_ms", "connect_timeout_ms",
        "rate_limit", "vars", "values",  "errors",   "ops"};
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
            if (strcmp(c->string, vmap_names[i]) == 0)
                vi = i;
        if (vi < 0)
            return lerr(lc, "values", "unknown map \"%s\"", c->string);
        char key[64];
        snprintf(key, sizeof(key), "values.%s", vmap_names[vi]);
        if ((rc = load_kvlist(lc, c, key, &p->values[vi])) != NT_OK)
            return rc;
        for (size_t i = 0; i < p->values[vi].n; i++)
            if (!in_vocab(&vocabs[vi], p->values[vi].items[i].value))
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
    return NT_OK;
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
        if (strcmp(c->string, "platforms") != 0) {
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
        lc.pid = NULL;
        if (load_platform(&lc, p, c) != NT_OK)
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

/* ---- request building ---- */

typedef struct vars_s {
    const nt_platform_t *p;
    const nt_adapter_req_t *req;
    char number_digits[NT_JOB_NUMBER_MAX];
    char number_enc[NT_JOB_NUMBER_MAX * 3];
    char ticket_enc[NT_JOB_TICKET_MAX * 3];
    const char *mark; /* platform's name for req->mark_type */
} vars_t;

/* Looks a variable up; NULL when unknown or unset for this request. */
static const char *var_get(const vars_t *v, const char *name)
{
    const nt_adapter_req_t *r = v->req;
    if (strcmp(name, "number") == 0)
        return r->number;
    if (strcmp(name, "number_digits") == 0)
        return r->number ? v->number_digits : NULL;
    if (strcmp(name, "number_enc") == 0)
        return r->number ? v->number_enc : NULL;
    if (strcmp(name, "label") == 0)
        return r->label;
    if (strcmp(name, "mark") == 0)
        return v->mark;
    if (strcmp(name, "mark_type") == 0)
        return r->mark_type;
    if (strcmp(name, "evidence") == 0)
        return r->evidence ? r->evidence : "";
    if (strcmp(name, "ticket") == 0)
        return r->ticket;
    if (strcmp(name, "ticket_enc") == 0)
        return r->ticket ? v->ticket_enc : NULL;
    if (strcmp(name, "job_id") == 0)
        return r->job_id;
    if (strcmp(name, "platform") == 0)
        return v->p->id;
    return kvlist_get(&v->p->vars, name);
}

/* Parses "{name}" or "{name:int}" at s; returns the length consumed or 0. */
static size_t placeholder(const char *s, char *name, size_t namesz, bool *as_int)
{
    if (s[0] != '{')
        return 0;
    const char *end = strchr(s, '}');
    if (end == NULL)
        return 0;
    size_t n = (size_t)(end - s - 1);
    *as_int = false;
    if (n > 4 && strncmp(end - 4, ":int", 4) == 0) {
        *as_int = true;
        n -= 4;
    }
    if (n == 0 || n >= namesz)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[1 + i]) && s[1 + i] != '_')
            return 0;
    memcpy(name, s + 1, n);
    name[n] = '\0';
    return (size_t)(end - s + 1);
}

/* Appends text with placeholders replaced; json: escape as JSON string text. */
static int render_text(const vars_t *v, const char *tmpl, nt_buf_t *out, bool json_escape,
                       nt_err_t *err)
{
    for (const char *s = tmpl; *s;) {
        char name[64];
        bool as_int;
        size_t n = placeholder(s, name, sizeof(name), &as_int);
        if (n > 0) {
            const char *val = var_get(v, name);
            if (val == NULL)
                return nt_err_set(err, NT_EINVAL, false,
                                  "platform %s: template variable {%s} has no value here", v->p->id,
                                  name);
            int rc;
            if (json_escape) {
                /* inside a JSON string: escape, then drop the quotes */
                size_t start = out->len;
                rc = nt_buf_json_str(out, val, strlen(val));
                if (rc == NT_OK) {
                    memmove(out->data + start, out->data + start + 1, out->len - start - 2);
                    out->len -= 2;
                    out->data[out->len] = '\0';
                }
            } else {
                rc = nt_buf_puts(out, val);
            }
            if (rc != NT_OK)
                return nt_err_set(err, rc, false, "request too large");
            s += n;
            continue;
        }
        if (json_escape) {
            size_t run = strcspn(s + 1, "{") + 1;
            size_t start = out->len;
            if (nt_buf_json_str(out, s, run) != NT_OK)
                return nt_err_set(err, NT_ETOOBIG, false, "request too large");
            memmove(out->data + start, out->data + start + 1, out->len - start - 2);
            out->len -= 2;
            out->data[out->len] = '\0';
            s += run;
        } else {
            if (nt_buf_putc(out, *s) != NT_OK)
                return nt_err_set(err, NT_ETOOBIG, false, "request too large");
            s++;
        }
    }
    return NT_OK;
}

static int render_json(const vars_t *v, const cJSON *t, nt_buf_t *out, nt_err_t *err)
{
    int rc = NT_OK;
    if (cJSON_IsObject(t) || cJSON_IsArray(t)) {
        bool obj = cJSON_IsObject(t);
        rc = nt_buf_putc(out, obj ? '{' : '[');
        for (const cJSON *c = t->child; rc == NT_OK && c != NULL; c = c->next) {
            if (c != t->child)
                rc = nt_buf_putc(out, ',');
            if (rc == NT_OK && obj) {
                rc = nt_buf_json_str(out, c->string, strlen(c->string));
                if (rc == NT_OK)
                    rc = nt_buf_putc(out, ':');
            }
            if (rc == NT_OK)
                rc = render_json(v, c, out, err);
        }
        if (rc == NT_OK)
            rc = nt_buf_putc(out, obj ? '}' : ']');
        return rc;
    }
    if (cJSON_IsString(t)) {
        char name[64];
        bool as_int;
        size_t n = placeholder(t->valuestring, name, sizeof(name), &as_int);
        if (n > 0 && t->valuestring[n] == '\0') {
            if (strcmp(name, "numbers") == 0) {
                if (v->req->numbers == NULL)
                    return nt_err_set(err, NT_EINVAL, false,
                                      "platform %s: {numbers} outside a batch", v->p->id);
                rc = nt_buf_putc(out, '[');
                for (size_t i = 0; rc == NT_OK && i < v->req->nnumbers; i++) {
                    if (i > 0)
                        rc = nt_buf_putc(out, ',');
                    if (rc == NT_OK)
                        rc = nt_buf_json_str(out, v->req->numbers[i], strlen(v->req->numbers[i]));
                }
                return rc == NT_OK ? nt_buf_putc(out, ']') : rc;
            }
            const char *val = var_get(v, name);
            if (val == NULL)
                return nt_err_set(err, NT_EINVAL, false,
                                  "platform %s: template variable {%s} has no value here", v->p->id,
                                  name);
            if (as_int) {
                char *end = NULL;
                errno = 0;
                long long x = strtoll(val, &end, 10);
                if (errno != 0 || end == val || *end != '\0')
                    return nt_err_set(err, NT_EINVAL, false,
                                      "platform %s: {%s:int} value \"%s\" is not an integer",
                                      v->p->id, name, val);
                return nt_buf_printf(out, "%lld", x);
            }
            return nt_buf_json_str(out, val, strlen(val));
        }
        rc = nt_buf_putc(out, '"');
        if (rc == NT_OK)
            rc = render_text(v, t->valuestring, out, true, err);
        if (rc == NT_OK)
            rc = nt_buf_putc(out, '"');
        return rc;
    }
    char text[64];
    if (nt_json_scalar_text(t, text, sizeof(text)) != NT_OK)
        return nt_err_set(err, NT_EINVAL, false, "bad body template");
    if (cJSON_IsNumber(t) || cJSON_IsBool(t) || cJSON_IsNull(t))
        return nt_buf_puts(out, text);
    return nt_buf_json_str(out, text, strlen(text));
}

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void nt_adapter_sign(const char *secret, const char *method, const char *path,
                     const char *timestamp, const char *nonce, const char *body, size_t body_len,
                     char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char body_hex[65];
    nt_buf_t s;

    EVP_Digest(body ? body : "", body ? body_len : 0, md, &mdlen, EVP_sha256(), NULL);
    hex_encode(md, 32, body_hex);
    nt_buf_init(&s, 0);
    if (nt_buf_printf(&s, "%s\n%s\n%s\n%s\n%s", method, path, timestamp, nonce, body_hex) != NT_OK)
        abort(); /* a few hundred bytes: only out of memory gets here */
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)s.data, s.len, md,
         &mdlen);
    hex_encode(md, 32, out);
    nt_buf_free(&s);
}

static int add_header(struct curl_slist **headers, const char *name, const char *value)
{
    char line[1024];
    int n = snprintf(line, sizeof(line), "%s: %s", name, value);
    if (n < 0 || (size_t)n >= sizeof(line))
        return NT_ETOOBIG;
    struct curl_slist *l = curl_slist_append(*headers, line);
    if (l == NULL)
        return NT_ENOMEM;
    *headers = l;
    return NT_OK;
}

int nt_adapter_build(const nt_platform_t *p, nt_op_t op, const nt_adapter_req_t *req, int64_t now_s,
                     nt_http_call_t *call, nt_buf_t *url, nt_buf_t *body, nt_err_t *err)
{
    const opdef_t *d = &p->ops[op];
    vars_t v = {.p = p, .req = req};
    struct curl_slist *headers = NULL;
    int rc = NT_OK;

    memset(call, 0, sizeof(*call));
    nt_buf_reset(url);
    nt_buf_reset(body);
    if (!d->present)
        return nt_err_set(err, NT_EINVAL, false, "platform %s has no %s operation", p->id,
                          op_names[op]);
    if (req->number != NULL) {
        snprintf(v.number_digits, sizeof(v.number_digits), "%s",
                 req->number[0] == '+' ? req->number + 1 : req->number);
        if (nt_http_urlencode(req->number, v.number_enc, sizeof(v.number_enc)) != NT_OK)
            return nt_err_set(err, NT_EINVAL, false, "number too long");
    }
    if (req->ticket != NULL &&
        nt_http_urlencode(req->ticket, v.ticket_enc, sizeof(v.ticket_enc)) != NT_OK)
        return nt_err_set(err, NT_EINVAL, false, "ticket too long");
    if (req->mark_type != NULL) {
        const kvlist_t *m = &p->values[V_MARK];
        for (size_t i = 0; i < m->n && v.mark == NULL; i++)
            if (strcmp(m->items[i].value, req->mark_type) == 0)
                v.mark = m->items[i].key;
        if (v.mark == NULL && m->n == 0)
            v.mark = req->mark_type;
    }

    if ((rc = nt_buf_puts(url, p->base_url)) != NT_OK ||
        (rc = render_text(&v, d->path, url, false, err)) != NT_OK)
        goto fail;
    if (d->body != NULL) {
        if ((rc = render_json(&v, d->body, body, err)) != NT_OK) {
            if (err != NULL && err->msg[0] == '\0')
                nt_err_set(err, rc, false, "request body too large");
            goto fail;
        }
        if ((rc = add_header(&headers, "Content-Type", "application/json")) != NT_OK)
            goto fail;
    }
    if (req->job_id != NULL && (rc = add_header(&headers, "X-Request-Id", req->job_id)) != NT_OK)
        goto fail;
    if ((op == NT_OP_TAG_UPDATE || op == NT_OP_APPEAL_SUBMIT) && req->job_id != NULL &&
        (rc = add_header(&headers, "Idempotency-Key", req->job_id)) != NT_OK)
        goto fail;
    if (p->auth == AUTH_BEARER) {
        char value[600];
        snprintf(value, sizeof(value), "Bearer %s", p->auth_secret);
        rc = add_header(&headers, "Authorization", value);
        memset(value, 0, sizeof(value));
        if (rc != NT_OK)
            goto fail;
    } else if (p->auth == AUTH_HMAC) {
        unsigned char rnd[16];
        char nonce[33], ts[32], sig[65];
        size_t got = 0;
        while (got < sizeof(rnd)) {
            ssize_t n = getrandom(rnd + got, sizeof(rnd) - got, 0);
            if (n <= 0) {
                rc = nt_err_set(err, NT_EIO, true, "getrandom failed");
                goto fail;
            }
            got += (size_t)n;
        }
        hex_encode(rnd, sizeof(rnd), nonce);
        snprintf(ts, sizeof(ts), "%lld", (long long)now_s);
        /* the path as sent: base path plus the rendered operation path */
        const char *path = url->data + strlen(p->base_url) - strlen(p->base_path);
        char path_only[2048];
        size_t plen = strcspn(path, "?");
        if (plen >= sizeof(path_only)) {
            rc = nt_err_set(err, NT_ETOOBIG, false, "path too long");
            goto fail;
        }
        memcpy(path_only, path, plen);
        path_only[plen] = '\0';
        nt_adapter_sign(p->auth_secret, d->method, path_only, ts, nonce,
                        body->data ? body->data : "", body->len, sig);
        if ((rc = add_header(&headers, p->hdr_key, p->auth_key)) != NT_OK ||
            (rc = add_header(&headers, p->hdr_ts, ts)) != NT_OK ||
            (rc = add_header(&headers, p->hdr_nonce, nonce)) != NT_OK ||
            (rc = add_header(&headers, p->hdr_sig, sig)) != NT_OK)
            goto fail;
    }
    call->method = d->method;
    call->url = url->data;
    call->headers = headers;
    call->body = d->body != NULL ? (body->data ? body->data : "") : NULL;
    call->body_len = d->body != NULL ? body->len : 0;
    call->timeout_ms = p->timeout_ms;
    call->connect_timeout_ms = p->connect_timeout_ms;
    return NT_OK;
fail:
    curl_slist_free_all(headers);
    if (err != NULL && err->msg[0] == '\0')
        nt_err_set(err, rc, false, "platform %s: cannot build %s request", p->id, op_names[op]);
    return rc < 0 ? rc : NT_EINVAL;
}

/* ---- answers ---- */

static bool status_class(const nt_platform_t *p, long status, nt_outcome_t *out)
{
    char exact[24], klass[24];
    snprintf(exact, sizeof(exact), "%ld", status);
    snprintf(klass, sizeof(klass), "%ldxx", status / 100);
    const char *c = kvlist_get(&p->err_status, exact);
    if (c == NULL)
        c = kvlist_get(&p->err_status, klass);
    return c != NULL && outcome_parse(c, out) == NT_OK;
}

static void set_reason(nt_answer_t *ans, const nt_platform_t *p, const char *what,
                       const cJSON *root)
{
    char msg[128] = "", masked[160];
    const cJSON *m = p->err_message ? nt_json_pointer(root, p->err_message) : NULL;
    if (m != NULL && nt_json_scalar_text(m, msg, sizeof(msg)) != NT_OK)
        msg[0] = '\0';
    /* the platform's own words may quote the number: never keep it whole */
    nt_phone_mask_text(msg, masked, sizeof(masked));
    snprintf(ans->reason, sizeof(ans->reason), "%s: HTTP %ld %s%s%s", p->id, ans->status, what,
             masked[0] ? ": " : "", masked);
}

void nt_adapter_answer(const nt_platform_t *p, const nt_http_result_t *res, nt_answer_t *ans,
                       cJSON **root)
{
    cJSON *body = NULL;
    memset(ans, 0, sizeof(*ans));
    *root = NULL;
    ans->status = res->status;
    ans->retry_after_ms = res->retry_after_ms;
    if (res->code != CURLE_OK) {
        ans->timed_out = res->code == CURLE_OPERATION_TIMEDOUT;
        ans->outcome = res->body_too_big ? NT_OUTCOME_PERMANENT : NT_OUTCOME_RETRYABLE;
        snprintf(ans->reason, sizeof(ans->reason), "%s: %s", p->id,
                 res->body_too_big ? "response larger than worker.http_max_body" : res->error);
        return;
    }
    nt_outcome_t by_status;
    bool mapped = status_class(p, res->status, &by_status);
    if (!mapped) {
        by_status = res->status >= 200 && res->status < 300    ? NT_OUTCOME_OK
                    : res->status == 429                       ? NT_OUTCOME_RATE_LIMITED
                    : res->status == 401 || res->status == 403 ? NT_OUTCOME_AUTH
                    : res->status >= 500 || res->status == 408 ? NT_OUTCOME_RETRYABLE
                                                               : NT_OUTCOME_PERMANENT;
    }
    body = cJSON_ParseWithLength(res->body, res->body_len);
    if (by_status != NT_OUTCOME_OK) {
        ans->outcome = by_status;
        set_reason(ans, p, nt_outcome_name(by_status), body);
        cJSON_Delete(body);
        return;
    }
    if (body == NULL) {
        ans->outcome = NT_OUTCOME_RETRYABLE;
        snprintf(ans->reason, sizeof(ans->reason), "%s: HTTP %ld with a body that is not JSON",
                 p->id, res->status);
        return;
    }
    if (p->err_code != NULL) {
        const cJSON *code = nt_json_pointer(body, p->err_code);
        if (code != NULL && !cJSON_IsNull(code)) {
            char text[64];
            nt_outcome_t o = p->err_default;
            const char *cls = NULL;
            if (nt_json_scalar_text(code, text, sizeof(text)) == NT_OK)
                cls = kvlist_get(&p->err_codes, text);
            if (cls != NULL && outcome_parse(cls, &o) != NT_OK)
                o = p->err_default;
            if (o != NT_OUTCOME_OK) {
                ans->outcome = o;
                char what[96];
                snprintf(what, sizeof(what), "code %s (%s)", cls || text[0] ? text : "?",
                         nt_outcome_name(o));
                set_reason(ans, p, what, body);
                cJSON_Delete(body);
                return;
            }
        }
    }
    ans->outcome = NT_OUTCOME_OK;
    *root = body;
}

static int map_value(const nt_platform_t *p, int vi, const cJSON *item, const char *fname,
                     char *out, size_t outsz, nt_err_t *err)
{
    char text[256];
    if (nt_json_scalar_text(item, text, sizeof(text)) != NT_OK)
        return nt_err_set(err, NT_EINVAL, false, "%s: field %s is not a scalar", p->id, fname);
    const char *mapped = text;
    if (p->values[vi].n > 0) {
        mapped = kvlist_get(&p->values[vi], text);
        if (mapped == NULL) {
            if (vi == V_MARK) {
                mapped = "other";
            } else {
                return nt_err_set(err, NT_EINVAL, false, "%s: %s value \"%s\" is not in values.%s",
                                  p->id, fname, text, vmap_names[vi]);
            }
        }
    } else if (!in_vocab(&vocabs[vi], mapped)) {
        if (vi == V_MARK)
            mapped = "other";
        else
            return nt_err_set(err, NT_EINVAL, false, "%s: %s value \"%s\" is not a known value",
                              p->id, fname, text);
    }
    nt_buf_copy_str(out, outsz, mapped);
    return NT_OK;
}

/* Resolves a mapped field; *item NULL when optional and absent. */
static int field_get(const nt_platform_t *p, const field_t *f, const char *fname, const cJSON *base,
                     const cJSON **item, nt_err_t *err)
{
    *item = NULL;
    if (f->pointer == NULL)
        return NT_OK;
    *item = nt_json_pointer(base, f->pointer);
    if ((*item == NULL || cJSON_IsNull(*item)) && !f->optional)
        return nt_err_set(err, NT_EINVAL, false, "%s: field %s missing at %s", p->id, fname,
                          f->pointer);
    if (*item != NULL && cJSON_IsNull(*item))
        *item = NULL;
    return NT_OK;
}

static int mark_rank(const char *type)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(mark_values); i++)
        if (strcmp(mark_values[i], type) == 0)
            return (int)i;
    return (int)NT_ARRAY_LEN(mark_values);
}

static int add_mark(const nt_platform_t *p, const opdef_t *d, const cJSON *m, nt_check_state_t *st,
                    nt_err_t *err)
{
    const cJSON *t = nt_json_pointer(m, d->fields[F_MARK_TYPE].pointer);
    const cJSON *c = nt_json_pointer(m, d->fields[F_MARK_COUNT].pointer);
    char type[NT_JOB_MARK_TYPE_MAX];
    if (t == NULL || c == NULL || cJSON_IsNull(t))
        return nt_err_set(err, NT_EINVAL, false, "%s: a mark lacks its type or count", p->id);
    if (!cJSON_IsNumber(c))
        return nt_err_set(err, NT_EINVAL, false, "%s: mark count is not a number", p->id);
    double scaled = c->valuedouble * d->fields[F_MARK_COUNT].scale;
    if (!(scaled > -0.5 && scaled <= NT_MARK_COUNT_MAX)) /* also NaN */
        return nt_err_set(err, NT_EINVAL, false, "%s: mark count %g out of range", p->id,
                          c->valuedouble);
    int count = (int)(scaled + 0.5);
    if (count <= 0 || (cJSON_IsString(t) && t->valuestring[0] == '\0'))
        return NT_OK; /* "no mark" */
    int rc = map_value(p, V_MARK, t, "mark_type", type, sizeof(type), err);
    if (rc != NT_OK)
        return rc;
    for (size_t i = 0; i < st->nmarks; i++) {
        if (strcmp(st->marks[i].type, type) == 0) {
            /* two entries of one type add up; saturate, never wrap */
            st->marks[i].count = st->marks[i].count > NT_MARK_COUNT_MAX - count
                                     ? NT_MARK_COUNT_MAX
                                     : st->marks[i].count + count;
            return NT_OK;
        }
    }
    if (st->nmarks == NT_MAX_MARKS)
        return NT_OK; /* unreachable: one entry per taxonomy type */
    snprintf(st->marks[st->nmarks].type, sizeof(st->marks[st->nmarks].type), "%s", type);
    st->marks[st->nmarks].count = count;
    st->nmarks++;
    return NT_OK;
}

static int mark_cmp(const void *a, const void *b)
{
    const nt_mark_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return mark_rank(x->type) - mark_rank(y->type);
}

static int map_state(const nt_platform_t *p, const opdef_t *d, const cJSON *base,
                     nt_check_state_t *st, nt_err_t *err)
{
    const cJSON *it;
    int rc;
    if ((rc = field_get(p, &d->fields[F_CERT], "cert_status", base, &it, err)) != NT_OK)
        return rc;
    if (it != NULL) {
        if ((rc = map_value(p, V_CERT, it, "cert_status", st->cert_status, sizeof(st->cert_status),
                            err)) != NT_OK)
            return rc;
        st->has_cert = true;
    }
    if ((rc = field_get(p, &d->fields[F_SCORE], "trust_score", base, &it, err)) != NT_OK)
        return rc;
    if (it != NULL) {
        if (!cJSON_IsNumber(it))
            return nt_err_set(err, NT_EINVAL, false, "%s: trust_score is not a number", p->id);
        double s = it->valuedouble * d->fields[F_SCORE].scale;
        if (!(s >= 0 && s <= 100.0000001))
            return nt_err_set(err, NT_EINVAL, false, "%s: trust_score %.2f outside 0-100", p->id,
                              s);
        st->trust_score = (int)lround(s);
        st->has_score = true;
    }
    for (int s = 0; s < NT_SURFACES; s++) {
        static const char *const names[] = {"label_android", "label_ios", "label_search"};
        if ((rc = field_get(p, &d->fields[F_LABEL_ANDROID + s], names[s], base, &it, err)) != NT_OK)
            return rc;
        if (it == NULL)
            continue;
        if (!cJSON_IsString(it))
            return nt_err_set(err, NT_EINVAL, false, "%s: %s is not a string", p->id, names[s]);
        if (strlen(it->valuestring) >= sizeof(st->label[s]))
            return nt_err_set(err, NT_EINVAL, false, "%s: %s longer than %zu bytes", p->id,
                              names[s], sizeof(st->label[s]) - 1);
        snprintf(st->label[s], sizeof(st->label[s]), "%s", it->valuestring);
        st->has_label[s] = true;
    }
    if ((rc = field_get(p, &d->fields[F_MARKS], "marks", base, &it, err)) != NT_OK)
        return rc;
    if (it != NULL) {
        if (cJSON_IsArray(it)) {
            for (const cJSON *m = it->child; m != NULL; m = m->next)
                if ((rc = add_mark(p, d, m, st, err)) != NT_OK)
                    return rc;
        } else if (cJSON_IsObject(it)) {
            if ((rc = add_mark(p, d, it, st, err)) != NT_OK)
                return rc;
        } else {
            return nt_err_set(err, NT_EINVAL, false, "%s: marks is not an array or object", p->id);
        }
        qsort(st->marks, st->nmarks, sizeof(st->marks[0]), mark_cmp);
    }
    return NT_OK;
}

int nt_adapter_map_check(const nt_platform_t *p, const cJSON *root, nt_check_state_t *st,
                         nt_err_t *err)
{
    char number[NT_JOB_NUMBER_MAX];
    snprintf(number, sizeof(number), "%s", st->number);
    memset(st, 0, sizeof(*st));
    snprintf(st->number, sizeof(st->number), "%s", number);
    return map_state(p, &p->ops[NT_OP_CHECK], root, st, err);
}

int nt_adapter_map_batch(const nt_platform_t *p, const cJSON *root, const char *const *numbers,
                         size_t n, nt_check_state_t *sts, nt_err_t *err)
{
    const opdef_t *d = &p->ops[NT_OP_CHECK_BATCH];
    if (!d->present)
        return nt_err_set(err, NT_EINVAL, false, "%s: no check_batch operation", p->id);
    const cJSON *items = nt_json_pointer(root, d->items);
    if (!cJSON_IsArray(items))
        return nt_err_set(err, NT_EINVAL, false, "%s: batch items missing at %s", p->id, d->items);
    for (size_t i = 0; i < n; i++) {
        memset(&sts[i], 0, sizeof(sts[i]));
        snprintf(sts[i].number, sizeof(sts[i].number), "%s", numbers[i]);
        sts[i].item_outcome = NT_OUTCOME_RETRYABLE;
        snprintf(sts[i].item_error, sizeof(sts[i].item_error),
                 "%s: number missing from the "
                 "batch answer",
                 p->id);
    }
    size_t pos = 0;
    for (const cJSON *item = items->child; item != NULL; item = item->next, pos++) {
        size_t idx = pos;
        if (d->item_number != NULL) {
            const cJSON *num = nt_json_pointer(item, d->item_number);
            idx = n;
            if (cJSON_IsString(num)) {
                for (size_t i = 0; i < n; i++) {
                    if (strcmp(numbers[i], num->valuestring) == 0 &&
                        sts[i].item_outcome == NT_OUTCOME_RETRYABLE) {
                        idx = i;
                        break;
                    }
                }
            }
        }
        if (idx >= n)
            continue; /* an answer for a number we did not ask about */
        nt_check_state_t *st = &sts[idx];
        st->item_error[0] = '\0';
        const cJSON *ie = d->item_error ? nt_json_pointer(item, d->item_error) : NULL;
        if (ie != NULL && !cJSON_IsNull(ie)) {
            char text[96] = "";
            if (nt_json_scalar_text(ie, text, sizeof(text)) != NT_OK)
                snprintf(text, sizeof(text), "error");
            const char *cls = kvlist_get(&p->err_codes, text);
            nt_outcome_t o = p->err_default;
            if (cls != NULL && outcome_parse(cls, &o) != NT_OK)
                o = p->err_default;
            st->item_outcome = o == NT_OUTCOME_OK ? NT_OUTCOME_PERMANENT : o;
            snprintf(st->item_error, sizeof(st->item_error), "%s: item error %s", p->id, text);
            continue;
        }
        nt_err_t ierr;
        nt_err_clear(&ierr);
        if (map_state(p, d, item, st, &ierr) != NT_OK) {
            st->item_outcome = NT_OUTCOME_PERMANENT;
            nt_buf_copy_str(st->item_error, sizeof(st->item_error), ierr.msg);
            continue;
        }
        st->item_outcome = NT_OUTCOME_OK;
    }
    return NT_OK;
}

int nt_adapter_map_ticket(const nt_platform_t *p, nt_op_t op, const cJSON *root, nt_ticket_t *t,
                          nt_err_t *err)
{
    const opdef_t *d = &p->ops[op];
    const cJSON *it;
    int rc;
    memset(t, 0, sizeof(*t));
    if (op != NT_OP_TAG_UPDATE && op != NT_OP_APPEAL_SUBMIT && op != NT_OP_APPEAL_STATUS)
        return nt_err_set(err, NT_EINVAL, false, "%s: %s has no ticket", p->id, op_names[op]);
    if ((rc = field_get(p, &d->fields[F_TICKET], "ticket", root, &it, err)) != NT_OK)
        return rc;
    if (it != NULL) {
        if (nt_json_scalar_text(it, t->ticket, sizeof(t->ticket)) != NT_OK || t->ticket[0] == '\0')
            return nt_err_set(err, NT_EINVAL, false, "%s: ticket is empty or too long", p->id);
    }
    if ((rc = field_get(p, &d->fields[F_STATE], "state", root, &it, err)) != NT_OK)
        return rc;
    if (it == NULL)
        return nt_err_set(err, NT_EINVAL, false, "%s: state missing", p->id);
    return map_value(p, op == NT_OP_TAG_UPDATE ? V_TAG_STATE : V_APPEAL_STATE, it, "state",
                     t->state, sizeof(t->state), err);
}
