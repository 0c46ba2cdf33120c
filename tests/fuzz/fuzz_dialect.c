/*
 * fuzz_dialect.c — libFuzzer target for the adapters' answer parsing
 * (common/adapter.h), built once per simulator dialect: fuzz_dialect_a,
 * fuzz_dialect_b, fuzz_dialect_c (NT_FUZZ_DIALECT is "a", "b" or "c").
 *
 * deploy/local/platforms.json is loaded once; the platform of the dialect
 * answers every input. Input: byte 0 picks the HTTP status (index mod 8 into
 * {200, 400, 401, 404, 409, 429, 500, 503}), the rest is the body, exactly
 * body_len bytes with no terminator. An OK answer is mapped as every
 * operation the platform has (check, check_batch for three fixed numbers,
 * tag_update, appeal_submit, appeal_status), and what a mapping returns must
 * be inside numtrust's vocabulary.
 */
#include <curl/curl.h>

#include "adapter.h"
#include "err.h"
#include "fuzz.h"
#include "job.h"

#ifndef NT_FUZZ_DIALECT
#error "NT_FUZZ_DIALECT must name the dialect (\"a\" to \"d\")"
#endif
#ifndef NT_FUZZ_PLATFORMS_FILE
#define NT_FUZZ_PLATFORMS_FILE "deploy/local/platforms.json"
#endif

/* Loaded once by LLVMFuzzerInitialize and kept for the whole run (freed at
 * exit); the harness's only state. */
static nt_platforms_t *platforms;
static const nt_platform_t *platform;

static const long statuses[] = {200, 400, 401, 404, 409, 429, 500, 503};
static const char *const batch_numbers[] = {"+8613800138000", "+8613800138001", "+8613800138002"};

/* Taxonomy order (design.md), the tie-break of the mark sort. */
static const char *const taxonomy[] = {"harassment",  "fraud",    "agency", "finance",
                                       "advertising", "delivery", "taxi",   "other"};

static void free_platforms(void)
{
    nt_platforms_free(platforms);
    platforms = NULL;
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static int mark_rank(const char *type)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(taxonomy); i++)
        if (strcmp(taxonomy[i], type) == 0)
            return (int)i;
    return -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    nt_err_t err;
    (void)argc;
    (void)argv;
    /* platforms.json names these; their values are never sent anywhere */
    setenv("NT_SIM_URL", "http://127.0.0.1:1", 1);
    setenv("NT_SIM_HMAC_KEY", "fuzz-key", 1);
    setenv("NT_SIM_HMAC_SECRET", "fuzz-secret", 1);
    setenv("NT_SIM_BEARER_TOKEN", "fuzz-token", 1);
    setenv("NT_SIM_CALLBACK_SECRET", "fuzz-callback-secret", 1);
    const char *file = getenv("NT_FUZZ_PLATFORMS");
    if (file == NULL || file[0] == '\0')
        file = NT_FUZZ_PLATFORMS_FILE;
    platforms = nt_platforms_load(file, &err);
    if (platforms == NULL) {
        fprintf(stderr, "fuzz_dialect_%s: %s\n", NT_FUZZ_DIALECT, err.msg);
        exit(2);
    }
    atexit(free_platforms);
    for (size_t i = 0; i < nt_platforms_count(platforms); i++) {
        const nt_platform_t *p = nt_platforms_at(platforms, i);
        if (strcmp(nt_platform_dialect(p), NT_FUZZ_DIALECT) == 0) {
            platform = p;
            break;
        }
    }
    if (platform == NULL) {
        fprintf(stderr, "fuzz_dialect_%s: %s has no platform of dialect %s\n", NT_FUZZ_DIALECT,
                file, NT_FUZZ_DIALECT);
        exit(2);
    }
    return 0;
}

/* What a successful check mapping promises (adapter.h). */
static void check_state(const nt_check_state_t *st)
{
    static const char *const certs[] = {"certified", "pending", "expired", "revoked", "none"};
    FUZZ_CHECK(fuzz_is_cstr(st->number, sizeof(st->number)), "number not terminated");
    FUZZ_CHECK(fuzz_is_cstr(st->item_error, sizeof(st->item_error)), "item_error not terminated");
    if (st->has_cert)
        FUZZ_CHECK(in_list(st->cert_status, certs, NT_ARRAY_LEN(certs)), "cert_status \"%.*s\"",
                   (int)sizeof(st->cert_status), st->cert_status);
    if (st->has_score)
        FUZZ_CHECK(st->trust_score >= 0 && st->trust_score <= 100, "trust_score %d",
                   st->trust_score);
    for (int s = 0; s < NT_SURFACES; s++)
        FUZZ_CHECK(fuzz_is_cstr(st->label[s], sizeof(st->label[s])), "label %d not terminated", s);
    FUZZ_CHECK(st->nmarks <= NT_MAX_MARKS, "nmarks %zu", st->nmarks);
    for (size_t i = 0; i < st->nmarks; i++) {
        const nt_mark_t *m = &st->marks[i];
        FUZZ_CHECK(mark_rank(m->type) >= 0, "mark %zu type \"%.*s\"", i, (int)sizeof(m->type),
                   m->type);
        FUZZ_CHECK(m->count > 0 && m->count <= NT_MARK_COUNT_MAX, "mark %zu (%s) count %d", i,
                   m->type, m->count);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(st->marks[j].type, m->type) != 0, "mark type %s twice", m->type);
        if (i > 0) {
            const nt_mark_t *prev = &st->marks[i - 1];
            FUZZ_CHECK(prev->count > m->count ||
                           (prev->count == m->count && mark_rank(prev->type) < mark_rank(m->type)),
                       "marks out of order: %s %d before %s %d", prev->type, prev->count, m->type,
                       m->count);
        }
    }
}

static void map_all(const nt_platform_t *p, const cJSON *root)
{
    nt_check_state_t st, sts[NT_ARRAY_LEN(batch_numbers)];
    nt_ticket_t t;
    nt_err_t err;

    memset(&st, 0, sizeof(st));
    snprintf(st.number, sizeof(st.number), "%s", batch_numbers[0]);
    if (nt_adapter_map_check(p, root, &st, &err) == NT_OK) {
        check_state(&st);
        FUZZ_CHECK(strcmp(st.number, batch_numbers[0]) == 0, "map_check changed the number");
    } else {
        FUZZ_CHECK(err.msg[0] != '\0' && fuzz_is_cstr(err.msg, sizeof(err.msg)),
                   "map_check failed without a reason");
    }

    if (nt_platform_has_op(p, NT_OP_CHECK_BATCH)) {
        size_t n = NT_ARRAY_LEN(batch_numbers);
        if (nt_adapter_map_batch(p, root, batch_numbers, n, sts, &err) == NT_OK) {
            for (size_t i = 0; i < n; i++) {
                FUZZ_CHECK((unsigned)sts[i].item_outcome < NT_OUTCOME_N, "item %zu outcome %d", i,
                           (int)sts[i].item_outcome);
                FUZZ_CHECK(strcmp(sts[i].number, batch_numbers[i]) == 0, "item %zu number", i);
                if (sts[i].item_outcome == NT_OUTCOME_OK)
                    check_state(&sts[i]);
                else
                    FUZZ_CHECK(sts[i].item_error[0] != '\0' &&
                                   fuzz_is_cstr(sts[i].item_error, sizeof(sts[i].item_error)),
                               "item %zu failed without a reason", i);
            }
        }
    }

    static const nt_op_t ticket_ops[] = {NT_OP_TAG_UPDATE, NT_OP_APPEAL_SUBMIT,
                                         NT_OP_APPEAL_STATUS};
    static const char *const tag_states[] = {"pending_review", "applied", "rejected"};
    static const char *const appeal_states[] = {"submitted", "in_review", "approved", "rejected"};
    for (size_t i = 0; i < NT_ARRAY_LEN(ticket_ops); i++) {
        nt_op_t op = ticket_ops[i];
        if (!nt_platform_has_op(p, op))
            continue;
        if (nt_adapter_map_ticket(p, op, root, &t, &err) != NT_OK)
            continue;
        FUZZ_CHECK(fuzz_is_cstr(t.ticket, sizeof(t.ticket)), "ticket not terminated");
        if (op == NT_OP_TAG_UPDATE)
            FUZZ_CHECK(in_list(t.state, tag_states, NT_ARRAY_LEN(tag_states)), "tag state \"%.*s\"",
                       (int)sizeof(t.state), t.state);
        else
            FUZZ_CHECK(in_list(t.state, appeal_states, NT_ARRAY_LEN(appeal_states)),
                       "%s state \"%.*s\"", nt_op_name(op), (int)sizeof(t.state), t.state);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nt_http_result_t res;
    nt_answer_t ans;
    cJSON *root = NULL;

    if (size == 0)
        return 0;
    memset(&res, 0, sizeof(res));
    res.code = CURLE_OK;
    res.status = statuses[data[0] % NT_ARRAY_LEN(statuses)];
    res.body = (const char *)data + 1; /* not terminated: the adapter must honour body_len */
    res.body_len = size - 1;
    res.retry_after_ms = -1;
    res.error = "";

    nt_adapter_answer(platform, &res, &ans, &root);
    FUZZ_CHECK((unsigned)ans.outcome < NT_OUTCOME_N, "outcome %d", (int)ans.outcome);
    FUZZ_CHECK(fuzz_is_cstr(ans.reason, sizeof(ans.reason)), "reason not terminated");
    FUZZ_CHECK(ans.status == res.status, "status %ld became %ld", res.status, ans.status);
    if (ans.outcome != NT_OUTCOME_OK) {
        FUZZ_CHECK(root == NULL, "root set for outcome %s", nt_outcome_name(ans.outcome));
        FUZZ_CHECK(ans.reason[0] != '\0', "outcome %s without a reason",
                   nt_outcome_name(ans.outcome));
        return 0;
    }
    FUZZ_CHECK(root != NULL, "OK without a parsed body");
    map_all(platform, root);
    cJSON_Delete(root);
    return 0;
}
