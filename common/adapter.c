/*
 * adapter.c — request building and answer mapping for the platforms the
 * registry (platforms.c) loaded from platforms.json (see adapter.h and
 * docs/platforms.md).
 *
 * Both walk the registry's parsed tables; nothing here knows a dialect by
 * name: every difference between platforms is data.
 */
#include "adapter.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "clock.h"
#include "hex.h"
#include "json.h"
#include "phone.h"
#include "platforms_int.h"
#include "xml.h"

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

/* Turns the rendered JSON body in body into the XML it describes
 * (common/xml.h: one root member, "@x" attributes, arrays repeat). */
static int json_to_xml(nt_buf_t *body, nt_err_t *err)
{
    cJSON *root = cJSON_ParseWithLength(body->data ? body->data : "", body->len);
    if (root == NULL)
        return nt_err_set(err, NT_EINVAL, false, "XML body template is not a JSON object");
    nt_buf_reset(body);
    int rc = nt_xml_render(root, body, err);
    cJSON_Delete(root);
    return rc;
}

int nt_adapter_render_form(const nt_platform_t *p, nt_op_t op, const nt_adapter_req_t *req,
                           nt_buf_t *out, nt_err_t *err)
{
    vars_t v = {.p = p, .req = req};
    const cJSON *form = nt_platform_manual_form(p, op);
    nt_buf_reset(out);
    if (form == NULL)
        return nt_err_set(err, NT_EINVAL, false, "platform %s has no manual %s form", p->id,
                          nt_op_name(op));
    if (req->number != NULL)
        snprintf(v.number_digits, sizeof(v.number_digits), "%s",
                 req->number[0] == '+' ? req->number + 1 : req->number);
    if (req->mark_type != NULL) {
        const kvlist_t *m = &p->values[V_MARK];
        for (size_t i = 0; i < m->n && v.mark == NULL; i++)
            if (strcmp(m->items[i].value, req->mark_type) == 0)
                v.mark = m->items[i].key;
        if (v.mark == NULL)
            v.mark = req->mark_type;
    }
    int rc = render_json(&v, form, out, err);
    if (rc != NT_OK && err != NULL && err->msg[0] == '\0')
        nt_err_set(err, rc, false, "platform %s: form too large", p->id);
    return rc;
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
    nt_hex_encode(md, 32, body_hex);
    nt_buf_init(&s, 0);
    if (nt_buf_printf(&s, "%s\n%s\n%s\n%s\n%s", method, path, timestamp, nonce, body_hex) != NT_OK)
        abort(); /* a few hundred bytes: only out of memory gets here */
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)s.data, s.len, md,
         &mdlen);
    nt_hex_encode(md, 32, out);
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
                          nt_op_name(op));
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
        if (p->xml && (rc = json_to_xml(body, err)) != NT_OK)
            goto fail;
        if ((rc = add_header(&headers, "Content-Type",
                             p->xml ? "application/xml" : "application/json")) != NT_OK)
            goto fail;
    }
    if (req->job_id != NULL && (rc = add_header(&headers, "X-Request-Id", req->job_id)) != NT_OK)
        goto fail;
    const char *idem = req->idempotency_key != NULL ? req->idempotency_key : req->job_id;
    if ((op == NT_OP_TAG_UPDATE || op == NT_OP_APPEAL_SUBMIT || op == NT_OP_RENEWAL) &&
        idem != NULL && (rc = add_header(&headers, "Idempotency-Key", idem)) != NT_OK)
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
        nt_hex_encode(rnd, sizeof(rnd), nonce);
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
        nt_err_set(err, rc, false, "platform %s: cannot build %s request", p->id, nt_op_name(op));
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

/* The class errors.codes gives the business code in body; false when the
 * platform has no code pointer, the body none, or the code no class. */
static bool code_class(const nt_platform_t *p, const cJSON *body, nt_outcome_t *out)
{
    char text[64];
    const cJSON *code =
        p->err_code != NULL && body != NULL ? nt_json_pointer(body, p->err_code) : NULL;
    if (code == NULL || cJSON_IsNull(code) ||
        nt_json_scalar_text(code, text, sizeof(text)) != NT_OK)
        return false;
    const char *cls = kvlist_get(&p->err_codes, text);
    return cls != NULL && outcome_parse(cls, out) == NT_OK;
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
    if (p->xml) {
        nt_err_t xerr;
        body = nt_xml_parse(res->body, res->body_len, &xerr);
    } else {
        body = cJSON_ParseWithLength(res->body, res->body_len);
    }
    if (by_status != NT_OUTCOME_OK) {
        /* a business code mapped to "rejected" says more than a 4xx: the
         * platform refused this request on its merits */
        nt_outcome_t by_code;
        if (by_status == NT_OUTCOME_PERMANENT && code_class(p, body, &by_code) &&
            by_code == NT_OUTCOME_REJECTED) {
            ans->outcome = NT_OUTCOME_REJECTED;
            set_reason(ans, p, "rejected", body);
        } else {
            ans->outcome = by_status;
            set_reason(ans, p, nt_outcome_name(by_status), body);
        }
        cJSON_Delete(body);
        return;
    }
    if (body == NULL) {
        ans->outcome = NT_OUTCOME_RETRYABLE;
        snprintf(ans->reason, sizeof(ans->reason), "%s: HTTP %ld with a body that is not %s", p->id,
                 res->status, p->xml ? "XML" : "JSON");
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
                                  p->id, fname, text, nt_platforms_vmap_names[vi]);
            }
        }
    } else if (!in_vocab(&nt_platforms_vocabs[vi], mapped)) {
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
    const vocab_t *marks = &nt_platforms_vocabs[V_MARK];
    for (size_t i = 0; i < marks->n; i++)
        if (strcmp(marks->values[i], type) == 0)
            return (int)i;
    return (int)marks->n;
}

/* A number in an answer: a JSON number, or for an XML platform (whose
 * values are all text) a string holding exactly one decimal number. */
static bool answer_number(const nt_platform_t *p, const cJSON *it, double *out)
{
    if (cJSON_IsNumber(it)) {
        *out = it->valuedouble;
        return true;
    }
    if (!p->xml || !cJSON_IsString(it) || it->valuestring[0] == '\0')
        return false;
    const char *s = it->valuestring;
    for (const char *c = s; *c; c++)
        if (!((*c >= '0' && *c <= '9') || *c == '-' || *c == '.'))
            return false; /* no spaces, exponents, hex, inf or nan */
    char *end = NULL;
    errno = 0;
    double d = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(d))
        return false;
    *out = d;
    return true;
}

static int add_mark(const nt_platform_t *p, const opdef_t *d, const cJSON *m, nt_check_state_t *st,
                    nt_err_t *err)
{
    const cJSON *t = nt_json_pointer(m, d->fields[F_MARK_TYPE].pointer);
    const cJSON *c = nt_json_pointer(m, d->fields[F_MARK_COUNT].pointer);
    char type[NT_JOB_MARK_TYPE_MAX];
    if (t == NULL || c == NULL || cJSON_IsNull(t))
        return nt_err_set(err, NT_EINVAL, false, "%s: a mark lacks its type or count", p->id);
    double cv;
    if (!answer_number(p, c, &cv))
        return nt_err_set(err, NT_EINVAL, false, "%s: mark count is not a number", p->id);
    double scaled = cv * d->fields[F_MARK_COUNT].scale;
    if (!(scaled > -0.5 && scaled <= NT_MARK_COUNT_MAX)) /* also NaN */
        return nt_err_set(err, NT_EINVAL, false, "%s: mark count %g out of range", p->id, cv);
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

/* A point in time: an RFC 3339 string, a date "YYYY-MM-DD" (midnight UTC)
 * or a number of seconds since the epoch (times the field's scale: 0.001
 * for milliseconds). An empty string or 0 is "none" (*has false). */
static int map_time(const nt_platform_t *p, const field_t *f, const cJSON *it, const char *fname,
                    bool *has, int64_t *ms, nt_err_t *err)
{
    *has = false;
    if (cJSON_IsString(it)) {
        const char *s = it->valuestring;
        char full[40];
        if (s[0] == '\0')
            return NT_OK;
        if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
            snprintf(full, sizeof(full), "%sT00:00:00Z", s);
            s = full;
        }
        if (nt_clock_parse(s, ms) != NT_OK)
            return nt_err_set(err, NT_EINVAL, false, "%s: %s \"%.40s\" is not a time", p->id, fname,
                              it->valuestring);
        *has = true;
        return NT_OK;
    }
    if (cJSON_IsNumber(it)) {
        double secs = it->valuedouble * f->scale;
        if (!(secs >= 0 && secs < 253402300800.0)) /* also NaN; up to year 9999 */
            return nt_err_set(err, NT_EINVAL, false, "%s: %s %g is not a time", p->id, fname,
                              it->valuedouble);
        if (secs == 0)
            return NT_OK;
        *ms = (int64_t)llround(secs * 1000.0);
        *has = true;
        return NT_OK;
    }
    return nt_err_set(err, NT_EINVAL, false, "%s: %s is neither a time text nor a number", p->id,
                      fname);
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
        double sv;
        if (!answer_number(p, it, &sv))
            return nt_err_set(err, NT_EINVAL, false, "%s: trust_score is not a number", p->id);
        double s = sv * d->fields[F_SCORE].scale;
        if (!(s >= 0 && s <= 100.0000001))
            return nt_err_set(err, NT_EINVAL, false, "%s: trust_score %.2f outside 0-100", p->id,
                              s);
        st->trust_score = (int)lround(s);
        st->has_score = true;
    }
    if ((rc = field_get(p, &d->fields[F_CERT_EXPIRES], "cert_expires", base, &it, err)) != NT_OK)
        return rc;
    if (it != NULL && (rc = map_time(p, &d->fields[F_CERT_EXPIRES], it, "cert_expires",
                                     &st->has_cert_expires, &st->cert_expires_ms, err)) != NT_OK)
        return rc;
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
    if (op != NT_OP_TAG_UPDATE && op != NT_OP_APPEAL_SUBMIT && op != NT_OP_APPEAL_STATUS &&
        op != NT_OP_TAG_STATUS && op != NT_OP_RENEWAL)
        return nt_err_set(err, NT_EINVAL, false, "%s: %s has no ticket", p->id, nt_op_name(op));
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
    int vi = op == NT_OP_TAG_UPDATE || op == NT_OP_TAG_STATUS ? V_TAG_STATE
             : op == NT_OP_RENEWAL                            ? V_RENEWAL_STATE
                                                              : V_APPEAL_STATE;
    if ((rc = map_value(p, vi, it, "state", t->state, sizeof(t->state), err)) != NT_OK)
        return rc;
    if ((rc = field_get(p, &d->fields[F_REASON], "reason", root, &it, err)) != NT_OK)
        return rc;
    if (it != NULL) {
        char raw[NT_REASON_MAX];
        if (nt_json_scalar_text(it, raw, sizeof(raw)) != NT_OK)
            nt_buf_copy_str(raw, sizeof(raw), "(reason not a short scalar)");
        nt_phone_mask_text(raw, t->reason, sizeof(t->reason)); /* it may quote the number */
    }
    if ((rc = field_get(p, &d->fields[F_CERT_EXPIRES], "cert_expires", root, &it, err)) != NT_OK)
        return rc;
    if (it != NULL) {
        if ((rc = map_time(p, &d->fields[F_CERT_EXPIRES], it, "cert_expires", &t->has_expires,
                           &t->expires_ms, err)) != NT_OK)
            return rc;
    }
    return NT_OK;
}
