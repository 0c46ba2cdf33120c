/*
 * callbacks.c — verifying and applying platform callbacks (see callbacks.h).
 *
 * One statement applies a callback: it inserts the (platform, ticket, kind,
 * seq) row with the effect it will have, computed from the target row as it
 * is (applied, stale, unknown_ticket), and only an applied row updates the
 * appeal (and its mark) or the tag update. The primary key makes a repeat a
 * no-op ("duplicate"), except that a callback first seen before its ticket
 * was written is applied when it comes again.
 */
#include "callbacks.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "hex.h"
#include "json.h"
#include "xml.h"

/* $1 platform, $2 ticket, $3 kind, $4 seq, $5 state, $6 event time */
static const char sql_apply[] =
    "WITH cur AS ("
    "  SELECT CASE"
    "    WHEN $3 = 'appeal' THEN (SELECT CASE WHEN a.state IN ('approved', 'rejected')"
    "             OR coalesce(a.callback_seq, 0) >= $4::bigint"
    "             OR (a.state = 'in_review' AND $5 IN ('submitted', 'in_review'))"
    "           THEN 'stale' ELSE 'applied' END"
    "           FROM appeals a WHERE a.platform = $1 AND a.ticket = $2)"
    "    ELSE (SELECT CASE WHEN t.state <> 'pending_review'"
    "             OR coalesce(t.callback_seq, 0) >= $4::bigint THEN 'stale' ELSE 'applied' END"
    "           FROM tag_updates t WHERE t.platform = $1 AND t.ticket = $2 LIMIT 1)"
    "  END AS effect"
    "), ins AS ("
    "  INSERT INTO platform_callbacks AS pc (platform, ticket, kind, seq, state, event_at, effect)"
    "  SELECT $1, $2, $3, $4::bigint, $5, $6::timestamptz, coalesce(cur.effect, 'unknown_ticket')"
    "  FROM cur"
    "  ON CONFLICT (platform, ticket, kind, seq) DO UPDATE SET effect = EXCLUDED.effect,"
    "    received_at = now()"
    "  WHERE pc.effect = 'unknown_ticket' AND EXCLUDED.effect <> 'unknown_ticket'"
    "  RETURNING pc.effect"
    "), ap AS ("
    "  UPDATE appeals a SET state = $5, callback_seq = $4::bigint,"
    "    updated_at = greatest(a.updated_at, $6::timestamptz),"
    "    decided_at = CASE WHEN $5 IN ('approved', 'rejected') THEN $6::timestamptz"
    "                 ELSE a.decided_at END"
    "  FROM ins WHERE ins.effect = 'applied' AND $3 = 'appeal' AND a.platform = $1"
    "    AND a.ticket = $2"
    "  RETURNING a.number, a.platform, a.mark_type, a.state, a.job_id"
    "), mk AS ("
    "  UPDATE marks m SET state = CASE WHEN ap.state = 'approved' THEN 'cleared'"
    "                                  ELSE 'disputed' END,"
    "    cleared_at = CASE WHEN ap.state = 'approved' THEN now() ELSE m.cleared_at END"
    "  FROM ap WHERE ap.state IN ('approved', 'rejected') AND m.number = ap.number"
    "    AND m.platform = ap.platform AND m.type = ap.mark_type AND m.appeal_job = ap.job_id"
    "), tg AS ("
    "  UPDATE tag_updates t SET state = $5, callback_seq = $4::bigint"
    "  FROM ins WHERE ins.effect = 'applied' AND $3 = 'tag' AND t.platform = $1"
    "    AND t.ticket = $2 AND t.state = 'pending_review'"
    "  RETURNING 1"
    ")"
    "SELECT coalesce((SELECT effect FROM ins), 'duplicate'),"
    "       (SELECT count(*) FROM ap) + (SELECT count(*) FROM tg)";

void nt_callbacks_sign(const char *secret, const char *timestamp, const char *body, size_t len,
                       char out[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    nt_buf_t msg;
    out[0] = '\0';
    nt_buf_init(&msg, 0);
    if (nt_buf_printf(&msg, "%s\n", timestamp) == NT_OK &&
        nt_buf_append(&msg, body, len) == NT_OK &&
        HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg.data, msg.len,
             mac, &maclen) != NULL &&
        maclen == 32)
        nt_hex_encode(mac, 32, out);
    nt_buf_free(&msg);
}

static int answer(nt_buf_t *out, int status, const char *key, const char *value)
{
    nt_buf_reset(out);
    int rc = nt_buf_printf(out, "{\"%s\":", key);
    if (rc == NT_OK)
        rc = nt_buf_json_str(out, value, strlen(value));
    if (rc == NT_OK)
        rc = nt_buf_putc(out, '}');
    return rc == NT_OK ? status : 500;
}

/* The text of the field at pointer in root into out; false when absent. */
static bool field(const cJSON *root, const char *pointer, char *out, size_t outsz)
{
    const cJSON *it = pointer != NULL ? nt_json_pointer(root, pointer) : NULL;
    return it != NULL && nt_json_scalar_text(it, out, outsz) == NT_OK && out[0] != '\0';
}

/* Checks the timestamp window and the signature. NULL when good, else why. */
static const char *verify(const nt_platform_callbacks_t *cb, const nt_callback_req_t *req,
                          int64_t now_ms)
{
    const char *ts = req->header(req->hctx, cb->timestamp_header);
    const char *sig = req->header(req->hctx, cb->signature_header);
    char want[65];
    if (ts == NULL || sig == NULL)
        return "signature or timestamp header missing";
    size_t n = strlen(ts);
    if (n == 0 || n > 12 || strspn(ts, "0123456789") != n)
        return "timestamp is not Unix seconds";
    long long t = strtoll(ts, NULL, 10);
    long long skew = t - now_ms / 1000;
    if (skew > cb->window_s || -skew > cb->window_s)
        return "timestamp outside the accepted window";
    nt_callbacks_sign(cb->secret, ts, req->body, req->body_len, want);
    if (strlen(sig) != 64 || want[0] == '\0' || CRYPTO_memcmp(want, sig, 64) != 0)
        return "bad signature";
    return NULL;
}

int nt_callbacks_parse(const nt_platforms_t *ps, const nt_callback_req_t *req, int64_t now_ms,
                       nt_callback_t *cb, nt_buf_t *out)
{
    cJSON *root = NULL;
    nt_err_t err;
    char kind[64], state_raw[64], when[64], msg[300];
    int status = 0;

    memset(cb, 0, sizeof(*cb));
    nt_err_clear(&err);
    const nt_platform_t *p = req->platform ? nt_platforms_find(ps, req->platform) : NULL;
    const nt_platform_callbacks_t *cbs = p ? nt_platform_callbacks(p) : NULL;
    if (cbs == NULL) {
        snprintf(msg, sizeof(msg), "platform \"%.64s\" is not configured for callbacks",
                 req->platform ? req->platform : "");
        return answer(out, 404, "error", msg);
    }
    const char *why = verify(cbs, req, now_ms);
    if (why != NULL) {
        snprintf(msg, sizeof(msg), "%s: %s", nt_platform_id(p), why);
        return answer(out, 401, "error", msg);
    }
    cb->platform = p;
    root = nt_platform_is_xml(p) ? nt_xml_parse(req->body, req->body_len, &err)
                                 : cJSON_ParseWithLength(req->body, req->body_len);
    if (root == NULL) {
        status = answer(out, 400, "error", "body is not parsable");
        goto out;
    }
    if (!field(root, cbs->kind, kind, sizeof(kind)) ||
        !field(root, cbs->ticket, cb->ticket, sizeof(cb->ticket)) ||
        !field(root, cbs->state, state_raw, sizeof(state_raw))) {
        status = answer(out, 400, "error", "kind, ticket or state missing");
        goto out;
    }
    int op = nt_platform_callback_kind(p, kind);
    if (op < 0) {
        snprintf(msg, sizeof(msg), "field kind: \"%s\" is not in callbacks.kinds", kind);
        status = answer(out, 400, "error", msg);
        goto out;
    }
    cb->tag = op == NT_OP_TAG_UPDATE;
    if (nt_platform_map_state(p, (nt_op_t)op, state_raw, cb->state, sizeof(cb->state)) != NT_OK) {
        snprintf(msg, sizeof(msg), "field state: \"%s\" is not in values.%s", state_raw,
                 cb->tag ? "tag_state" : "appeal_state");
        status = answer(out, 400, "error", msg);
        goto out;
    }
    if (cbs->seq != NULL &&
        (!field(root, cbs->seq, cb->seq, sizeof(cb->seq)) ||
         strspn(cb->seq, "0123456789") != strlen(cb->seq) || strlen(cb->seq) > 15)) {
        status = answer(out, 400, "error", "field seq: missing or not a sequence number");
        goto out;
    }
    int64_t at_ms = now_ms;
    if (cbs->time != NULL) {
        if (!field(root, cbs->time, when, sizeof(when)) || nt_clock_parse(when, &at_ms) != NT_OK) {
            status = answer(out, 400, "error", "field time: missing or not an RFC 3339 time");
            goto out;
        }
    }
    if (cbs->seq == NULL) /* no sequence: the event time orders them */
        snprintf(cb->seq, sizeof(cb->seq), "%lld", (long long)at_ms);
    nt_clock_format(at_ms, cb->when);
out:
    cJSON_Delete(root);
    return status;
}

int nt_callbacks_apply(nt_pg_t *pg, const nt_callback_t *cb, nt_buf_t *out)
{
    nt_err_t err;
    char msg[300];
    nt_err_clear(&err);
    const char *params[6] = {nt_platform_id(cb->platform),
                             cb->ticket,
                             cb->tag ? "tag" : "appeal",
                             cb->seq,
                             cb->state,
                             cb->when};
    PGresult *res = nt_pg_exec(pg, sql_apply, 6, params, &err);
    if (res == NULL) {
        snprintf(msg, sizeof(msg), "not recorded, retry: %s", err.msg);
        return answer(out, 503, "error", msg);
    }
    const char *effect = PQgetvalue(res, 0, 0);
    int status = answer(out, strcmp(effect, "unknown_ticket") == 0 ? 202 : 200, "result", effect);
    PQclear(res);
    return status;
}

int nt_callbacks_handle(const nt_platforms_t *ps, nt_pg_t *pg, const nt_callback_req_t *req,
                        int64_t now_ms, nt_buf_t *out)
{
    nt_callback_t cb;
    int status = nt_callbacks_parse(ps, req, now_ms, &cb, out);
    return status != 0 ? status : nt_callbacks_apply(pg, &cb, out);
}
