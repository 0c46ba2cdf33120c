/*
 * dialect_a.c — dialect A: per-number status with a trust score and Chinese
 * mark tags, HMAC-SHA256 signed requests, errors as HTTP status plus
 * {"code":N,"message":"..."} (the shape of Baidu's number-authentication
 * centre). Wire format: docs/simulator.md.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialect.h"
#include "hex.h"
#include "phone.h"

static const char *const cert_states[NT_CERT__COUNT] = {
    "valid", "reviewing", "expired", "revoked", "unregistered",
};

static const char *const tags[NT_MARK__COUNT] = {
    "骚扰电话", "诈骗电话", "房产中介", "保险理财", "广告推销", "快递送餐", "出租车", "其他",
};

static const char *const appeal_states[NT_APPEAL__COUNT] = {
    "submitted",
    "in_review",
    "approved",
    "rejected",
};

static const nt_dialect_errdef_t errors[NT_DERR__COUNT] = {
    [NT_DERR_BAD_NUMBER] = {400, 40001, NULL, "invalid number"},
    [NT_DERR_BAD_BODY] = {400, 40002, NULL, "bad request body"},
    [NT_DERR_LABEL] = {400, 40010, NULL, "label rejected"},
    [NT_DERR_AUTH_SIG] = {401, 40101, NULL, "bad signature"},
    [NT_DERR_AUTH_SKEW] = {401, 40102, NULL, "timestamp skew"},
    [NT_DERR_AUTH_KEY] = {401, 40103, NULL, "missing or unknown key"},
    [NT_DERR_NO_TICKET] = {404, 40401, NULL, "unknown ticket"},
    [NT_DERR_NO_MARK] = {409, 40901, NULL, "no such mark"},
    [NT_DERR_RATE] = {429, 42901, NULL, "rate limited"},
    [NT_DERR_INTERNAL] = {500, 50001, NULL, "internal error"},
    [NT_DERR_UNAVAILABLE] = {503, 50301, NULL, "unavailable"},
    [NT_DERR_NOT_FOUND] = {404, 40400, NULL, "no such endpoint"},
    [NT_DERR_NOT_ELIGIBLE] = {409, 40902, NULL, "not eligible for renewal"},
};

static const char *const label_states[NT_SIM_TAG__COUNT] = {"pending_review", "active", "rejected"};

static int error_body(nt_buf_t *out, const nt_dialect_errdef_t *e, const char *msg)
{
    int rc = nt_buf_printf(out, "{\"code\":%d,\"message\":", e->code);
    NT_EMIT(rc, nt_buf_json_str(out, msg, strlen(msg)));
    NT_EMIT(rc, nt_buf_putc(out, '}'));
    return rc;
}

int nt_dialect_a_sign(const char *secret, const char *method, const char *path, const char *ts,
                      const char *nonce, const char *body, size_t len, char hex[65])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char body_hex[2 * SHA256_DIGEST_LENGTH + 1];
    nt_buf_t sts;
    int rc;

    SHA256((const unsigned char *)(body ? body : ""), len, digest);
    nt_hex_encode(digest, sizeof(digest), body_hex);
    nt_buf_init(&sts, 0);
    rc = nt_buf_printf(&sts, "%s\n%s\n%s\n%s\n%s", method, path, ts, nonce, body_hex);
    if (rc == NT_OK && HMAC(EVP_sha256(), secret, (int)strlen(secret),
                            (const unsigned char *)sts.data, sts.len, mac, &maclen) == NULL)
        rc = NT_ERR;
    if (rc == NT_OK)
        nt_hex_encode(mac, maclen, hex);
    nt_buf_free(&sts);
    return rc;
}

static bool nonce_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return n >= 16 && n <= 64;
}

static int auth(const nt_dialect_auth_t *in)
{
    const char *key = in->header(in->hctx, "X-Nt-Key");
    const char *ts = in->header(in->hctx, "X-Nt-Timestamp");
    const char *nonce = in->header(in->hctx, "X-Nt-Nonce");
    const char *sig = in->header(in->hctx, "X-Nt-Signature");
    char want[65];

    if (key == NULL || ts == NULL || nonce == NULL || sig == NULL ||
        strcmp(key, in->conf->hmac_key) != 0)
        return NT_DERR_AUTH_KEY;
    long long t = 0;
    size_t n = 0;
    for (; ts[n]; n++) {
        if (ts[n] < '0' || ts[n] > '9' || n >= 12)
            return NT_DERR_AUTH_SKEW;
        t = t * 10 + (ts[n] - '0');
    }
    long long skew = t - (long long)in->now_s;
    if (n == 0 || skew > in->conf->max_skew_s || -skew > in->conf->max_skew_s)
        return NT_DERR_AUTH_SKEW;
    if (!nonce_ok(nonce) || strlen(sig) != 64)
        return NT_DERR_AUTH_SIG;
    if (nt_dialect_a_sign(in->conf->hmac_secret, in->method, in->path, ts, nonce, in->body,
                          in->body_len, want) != NT_OK)
        return NT_DERR_INTERNAL;
    return CRYPTO_memcmp(want, sig, 64) == 0 ? NT_DERR_NONE : NT_DERR_AUTH_SIG;
}

static int render_check(nt_buf_t *out, const char *scope, const char *number,
                        const nt_sim_state_t *st)
{
    size_t ll = strlen(st->label);
    char expires[11];
    (void)scope;
    nt_dialect_date(st->cert_expires_ms, expires);
    int rc = nt_buf_puts(out, "{\"code\":0,\"data\":{\"number\":");
    NT_EMIT(rc, nt_buf_json_str(out, number, strlen(number)));
    NT_EMIT(rc, nt_buf_printf(out,
                              ",\"certified\":%s,\"cert_state\":\"%s\",\"cert_expires\":\"%s\","
                              "\"trust_score\":%d",
                              st->cert == NT_CERT_CERTIFIED ? "true" : "false",
                              cert_states[st->cert], expires, st->trust));
    NT_EMIT(rc, nt_buf_puts(out, ",\"display\":{\"android\":"));
    NT_EMIT(rc, nt_buf_json_str(out, st->label, ll));
    NT_EMIT(rc, nt_buf_puts(out, ",\"ios\":"));
    NT_EMIT(rc, nt_buf_json_str(out, st->label, ll));
    NT_EMIT(rc, nt_buf_puts(out, ",\"search\":"));
    NT_EMIT(rc, nt_buf_json_str(out, st->label, ll));
    NT_EMIT(rc, nt_buf_puts(out, "},\"marks\":["));
    for (size_t i = 0; i < st->nmarks; i++)
        NT_EMIT(rc, nt_buf_printf(out, "%s{\"tag\":\"%s\",\"count\":%d}", i ? "," : "",
                                  tags[st->marks[i].type], st->marks[i].count));
    NT_EMIT(rc, nt_buf_puts(out, "]}}"));
    return rc;
}

static int h_check(nt_dialect_call_t *call)
{
    nt_sim_state_t st;
    if (!nt_phone_is_e164(call->arg))
        return nt_dialect_fail(&nt_dialect_a, call, NT_DERR_BAD_NUMBER);
    if (nt_sim_state(call->sim, call->scope, call->arg, &st) != NT_OK)
        return nt_dialect_fail(&nt_dialect_a, call, NT_DERR_INTERNAL);
    call->status = 200;
    return render_check(call->out, call->scope_name, call->arg, &st);
}

static bool surfaces_ok(const cJSON *surfaces)
{
    static const char *const names[] = {"android", "ios", "search"};
    const cJSON *s;
    if (surfaces == NULL)
        return true;
    if (!cJSON_IsArray(surfaces))
        return false;
    cJSON_ArrayForEach(s, surfaces)
    {
        if (!cJSON_IsString(s) || nt_dialect_lookup(names, NT_ARRAY_LEN(names), s->valuestring) < 0)
            return false;
    }
    return true;
}

/* Maps an model error of a mutation to the dialect's answer. */
static int mutation_failed(nt_dialect_call_t *call, int rc)
{
    return nt_dialect_fail(&nt_dialect_a, call,
                           rc == NT_ENOENT ? NT_DERR_NO_MARK : NT_DERR_INTERNAL);
}

static int h_tag(nt_dialect_call_t *call)
{
    cJSON *root = NULL;
    char ticket[NT_SIM_TICKET_LEN];
    int rc;

    if (!nt_phone_is_e164(call->arg))
        return nt_dialect_fail(&nt_dialect_a, call, NT_DERR_BAD_NUMBER);
    root = nt_dialect_body(call);
    const char *label = nt_dialect_str(root, "label");
    if (root == NULL || label == NULL ||
        !surfaces_ok(cJSON_GetObjectItemCaseSensitive(root, "surfaces"))) {
        rc = nt_dialect_fail(&nt_dialect_a, call, NT_DERR_BAD_BODY);
        goto out;
    }
    if (!nt_dialect_label_ok(label)) {
        rc = nt_dialect_fail(&nt_dialect_a, call, NT_DERR_LABEL);
        goto out;
    }
    rc = nt_sim_tag_update(call->sim, call->scope, call->arg, label, call->idem_key, ticket);
    if (rc != NT_OK) {
        rc = mutation_failed(call, rc);
        goto out;
    }
    call->status = 200;
    rc = nt_buf_printf(call->out,
                       "{\"code\":0,\"data\":{\"ticket\":\"%s\",\"state\":\"pending_review\"}}",
                       ticket);
out:
    cJSON_Delete(root);
    return rc;
}

static int h_appeal(nt_dialect_call_t *call)
{
    cJSON *root = nt_dialect_body(call);
    char ticket[NT_SIM_TICKET_LEN];
    int rc;
    const char *number = nt_dialect_str(root, "number");
    const char *mark = nt_dialect_str(root, "mark");
    const cJSON *evidence = cJSON_GetObjectItemCaseSensitive(root, "evidence");
    int type = mark ? nt_dialect_lookup(tags, NT_MARK__COUNT, mark) : -1;

    if (type < 0 && mark != NULL)
        type = nt_sim_mark_parse(mark); /* the taxonomy name is accepted too */
    if (root == NULL || number == NULL || type < 0 ||
        (evidence != NULL && !cJSON_IsString(evidence))) {
        rc = nt_dialect_fail(&nt_dialect_a, call, NT_DERR_BAD_BODY);
        goto out;
    }
    if (!nt_phone_is_e164(number)) {
        rc = nt_dialect_fail(&nt_dialect_a, call, NT_DERR_BAD_NUMBER);
        goto out;
    }
    rc = nt_sim_appeal_submit(call->sim, call->scope, number, (nt_mark_t)type, call->idem_key,
                              ticket);
    if (rc != NT_OK) {
        rc = mutation_failed(call, rc);
        goto out;
    }
    call->status = 200;
    rc = nt_buf_printf(
        call->out, "{\"code\":0,\"data\":{\"ticket_id\":\"%s\",\"status\":\"submitted\"}}", ticket);
out:
    cJSON_Delete(root);
    return rc;
}

static int h_appeal_status(nt_dialect_call_t *call)
{
    nt_appeal_t status;
    if (nt_sim_appeal_status(call->sim, call->scope, call->arg, &status) != NT_OK)
        return nt_dialect_fail(&nt_dialect_a, call, NT_DERR_NO_TICKET);
    call->status = 200;
    int rc = nt_buf_puts(call->out, "{\"code\":0,\"data\":{\"ticket_id\":");
    NT_EMIT(rc, nt_buf_json_str(call->out, call->arg, strlen(call->arg)));
    NT_EMIT(rc, nt_buf_printf(call->out, ",\"status\":\"%s\"}}", appeal_states[status]));
    return rc;
}

static int h_tag_status(nt_dialect_call_t *call)
{
    nt_sim_tag_t state;
    char reason[NT_SIM_REASON_MAX];
    if (nt_sim_tag_status(call->sim, call->scope, call->arg, &state, reason) != NT_OK)
        return nt_dialect_fail(&nt_dialect_a, call, NT_DERR_NO_TICKET);
    call->status = 200;
    int rc = nt_buf_puts(call->out, "{\"code\":0,\"data\":{\"ticket\":");
    NT_EMIT(rc, nt_buf_json_str(call->out, call->arg, strlen(call->arg)));
    NT_EMIT(rc, nt_buf_printf(call->out, ",\"state\":\"%s\",\"reason\":", label_states[state]));
    NT_EMIT(rc, nt_buf_json_str(call->out, reason, strlen(reason)));
    NT_EMIT(rc, nt_buf_puts(call->out, "}}"));
    return rc;
}

static int h_renewal(nt_dialect_call_t *call)
{
    char ticket[NT_SIM_TICKET_LEN];
    if (!nt_phone_is_e164(call->arg))
        return nt_dialect_fail(&nt_dialect_a, call, NT_DERR_BAD_NUMBER);
    int rc = nt_sim_renew(call->sim, call->scope, call->arg, call->idem_key, ticket);
    if (rc != NT_OK)
        return nt_dialect_fail(&nt_dialect_a, call,
                               rc == NT_EINVAL ? NT_DERR_NOT_ELIGIBLE : NT_DERR_INTERNAL);
    call->status = 200;
    return nt_buf_printf(
        call->out, "{\"code\":0,\"data\":{\"ticket\":\"%s\",\"state\":\"accepted\"}}", ticket);
}

static const nt_dialect_route_t routes[] = {
    {"GET", "v1/numbers/*/status", NT_SIM_EP_CHECK, h_check},
    {"POST", "v1/numbers/*/label", NT_SIM_EP_TAG, h_tag},
    {"POST", "v1/appeals", NT_SIM_EP_APPEAL, h_appeal},
    {"GET", "v1/appeals/*", NT_SIM_EP_APPEAL_STATUS, h_appeal_status},
    {"GET", "v1/labels/*", NT_SIM_EP_TAG_STATUS, h_tag_status},
    {"POST", "v1/numbers/*/renewal", NT_SIM_EP_RENEWAL, h_renewal},
};

const nt_dialect_t nt_dialect_a = {
    .id = 'a',
    .ep_names = {"a.check", "a.tag", "a.appeal", "a.appeal_status", "a.tag_status", "a.renewal"},
    .routes = routes,
    .nroutes = NT_ARRAY_LEN(routes),
    .errors = errors,
    .error_body = error_body,
    .auth = auth,
    .render_check = render_check,
    .top_mark_only = false,
};
