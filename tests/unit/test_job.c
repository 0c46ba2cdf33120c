/*
 * test_job.c — the job envelope (job.h): encode/decode round trips for the
 * four types, the decode verdict table (OK / INVALID with the field named /
 * POISON), hostile strings surviving byte for byte, every truncation and
 * random corruption of a valid message, and deterministic ids (UUIDv5,
 * checked against a vector computed independently with Python:
 *   uuid.uuid5(uuid.UUID('5d1f2c4e-7a3b-5e8d-9c61-6e756d747275'),
 *              'check|+8613800138000|baidu||2026-11-28')
 *   = 0a9321d4-f68a-5081-9fcd-d0123a4c3167).
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "job.h"
#include "uuid.h"

static int ncases;

#define MAXB 65536

#define ID_A   "0a9321d4-f68a-5081-9fcd-d0123a4c3167"
#define ID_B   "4bdab1fb-f402-5472-aaa0-1876a9d2602b"
#define SQL_1  "'; DROP TABLE jobs; --"
#define SQL_2  "Robert'); DROP TABLE appeals;-- \" \\ \\\" \n\t /* */ %s %n \xe4\xb8\xad\xe6\x96\x87"
#define T_2026 1795824000000 /* 2026-11-28T00:00:00Z */

/* Parses exactly len bytes as one JSON value (nothing but whitespace after
 * it); NULL otherwise. Delete the result with cJSON_Delete. */
static cJSON *parse_exact(const char *data, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    while (root != NULL && end < data + len && (*end == ' ' || *end == '\n' || *end == '\t'))
        end++;
    if (root != NULL && end != data + len) {
        cJSON_Delete(root);
        root = NULL;
    }
    return root;
}

static const char *verdict_name(nt_job_verdict_t v)
{
    return v == NT_JOB_VERDICT_OK        ? "OK"
           : v == NT_JOB_VERDICT_INVALID ? "INVALID"
           : v == NT_JOB_VERDICT_POISON  ? "POISON"
                                         : "?";
}

static void fill(nt_job_t *job, nt_job_type_t type)
{
    nt_job_init(job);
    job->type = type;
    snprintf(job->id, sizeof(job->id), "%s", ID_A);
    snprintf(job->number, sizeof(job->number), "+8613800138000");
    snprintf(job->platform, sizeof(job->platform), "baidu");
    snprintf(job->tenant, sizeof(job->tenant), "acme");
    job->created_at_ms = T_2026 + 123;
    snprintf(job->trace_id, sizeof(job->trace_id), "trace-0001");
    switch (type) {
    case NT_JOB_CHECK:
        break;
    case NT_JOB_TAG_UPDATE:
        snprintf(job->platform, sizeof(job->platform), "tencent");
        snprintf(job->label, sizeof(job->label), "某某科技 客服");
        job->attempt = 2;
        job->not_before_ms = T_2026 + 30000;
        break;
    case NT_JOB_APPEAL:
        snprintf(job->platform, sizeof(job->platform), "qihoo360");
        snprintf(job->mark_type, sizeof(job->mark_type), "fraud");
        if (nt_job_set_evidence(job, "营业执照 \"quoted\" back\\slash\nline 2") != NT_OK)
            abort();
        snprintf(job->origin, sizeof(job->origin), "%s", ID_B); /* a re-run */
        job->attempt = 1000;
        break;
    case NT_JOB_APPEAL_STATUS:
        snprintf(job->mark_type, sizeof(job->mark_type), "harassment");
        snprintf(job->ticket, sizeof(job->ticket), "0123456789abcdef");
        snprintf(job->appeal_job, sizeof(job->appeal_job), "%s", ID_B);
        break;
    case NT_JOB_TAG_STATUS:
        snprintf(job->ticket, sizeof(job->ticket), "fedcba9876543210");
        snprintf(job->label, sizeof(job->label), "双11-折扣专线");
        break;
    case NT_JOB_RENEWAL:
        snprintf(job->platform, sizeof(job->platform), "tencent");
        break;
    }
}

static bool job_equal(const nt_job_t *a, const nt_job_t *b, char *why, size_t whysz)
{
#define SAME_STR(f)                                                                                \
    if (strcmp(a->f, b->f) != 0) {                                                                 \
        snprintf(why, whysz, #f ": \"%.100s\" vs \"%.100s\"", a->f, b->f);                         \
        return false;                                                                              \
    }
#define SAME_INT(f)                                                                                \
    if (a->f != b->f) {                                                                            \
        snprintf(why, whysz, #f ": %lld vs %lld", (long long)a->f, (long long)b->f);               \
        return false;                                                                              \
    }
    SAME_INT(v);
    SAME_STR(id);
    SAME_INT(type);
    SAME_STR(number);
    SAME_STR(platform);
    SAME_STR(tenant);
    SAME_INT(attempt);
    SAME_INT(not_before_ms);
    SAME_INT(created_at_ms);
    SAME_STR(trace_id);
    SAME_STR(origin);
    SAME_STR(label);
    SAME_STR(mark_type);
    if (strcmp(nt_job_evidence(a), nt_job_evidence(b)) != 0) {
        snprintf(why, whysz, "evidence: \"%.100s\" vs \"%.100s\"", nt_job_evidence(a),
                 nt_job_evidence(b));
        return false;
    }
    SAME_STR(ticket);
    SAME_STR(appeal_job);
#undef SAME_STR
#undef SAME_INT
    return true;
}

static void test_type_names(void)
{
    static const struct {
        const char *name;
        int rc;
        nt_job_type_t type;
    } rows[] = {
        {"check", NT_OK, NT_JOB_CHECK},
        {"tag_update", NT_OK, NT_JOB_TAG_UPDATE},
        {"appeal", NT_OK, NT_JOB_APPEAL},
        {"appeal_status", NT_OK, NT_JOB_APPEAL_STATUS},
        {"tag_status", NT_OK, NT_JOB_TAG_STATUS},
        {"renewal", NT_OK, NT_JOB_RENEWAL},
        {"CHECK", NT_EINVAL, 0},
        {"tag", NT_EINVAL, 0},
        {"", NT_EINVAL, 0},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_job_type_t t = NT_JOB_CHECK;
        int rc = nt_job_type_parse(rows[i].name, &t);
        CHECKF(rc == rows[i].rc, "type_parse(\"%s\"): rc %d", rows[i].name, rc);
        if (rc == NT_OK) {
            CHECKF(t == rows[i].type, "type_parse(\"%s\") = %d", rows[i].name, t);
            CHECK_STR(nt_job_type_name(t), rows[i].name);
        }
    }
    CHECK_STR(nt_job_type_name((nt_job_type_t)7), "unknown");
    ncases++;

    static const struct {
        const char *s;
        bool want;
    } marks[] = {{"harassment", true},  {"fraud", true},    {"agency", true}, {"finance", true},
                 {"advertising", true}, {"delivery", true}, {"taxi", true},   {"other", true},
                 {"Fraud", false},      {"spam", false},    {"", false},      {"fraud ", false}};
    for (size_t i = 0; i < NT_ARRAY_LEN(marks); i++, ncases++)
        CHECKF(nt_job_is_mark_type(marks[i].s) == marks[i].want, "is_mark_type(\"%s\") != %d",
               marks[i].s, marks[i].want);
}

static void test_round_trip(void)
{
    for (int type = 0; type < NT_JOB_NTYPES; type++, ncases++) {
        nt_job_t job, back;
        nt_buf_t b1, b2;
        nt_err_t err;
        char why[300];
        fill(&job, (nt_job_type_t)type);
        nt_buf_init(&b1, 0);
        nt_buf_init(&b2, 0);
        CHECKF(nt_job_validate(&job, &err) == NT_OK, "%s: fixture invalid: %s",
               nt_job_type_name(job.type), err.msg);
        CHECK_INT(nt_job_encode(&job, &b1), NT_OK);
        nt_job_verdict_t v = nt_job_decode(b1.data, b1.len, MAXB, &back, &err);
        CHECKF(v == NT_JOB_VERDICT_OK, "%s: decode of %s: %s (%s)", nt_job_type_name(job.type),
               b1.data, verdict_name(v), err.msg);
        CHECKF(job_equal(&job, &back, why, sizeof(why)), "%s round trip differs: %s",
               nt_job_type_name(job.type), why);
        /* re-encoding the decoded job gives the same bytes */
        CHECK_INT(nt_job_encode(&back, &b2), NT_OK);
        CHECKF(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0,
               "%s re-encode differs:\n  %s\n  %s", nt_job_type_name(job.type), b1.data, b2.data);
        /* the envelope is the documented JSON shape */
        cJSON *root = parse_exact(b1.data, b1.len);
        CHECKF(cJSON_IsObject(root), "%s: encoding is not one JSON object: %s",
               nt_job_type_name(job.type), b1.data);
        static const char *const keys[] = {"v",      "id",      "type",       "number", "platform",
                                           "tenant", "attempt", "created_at", "payload"};
        for (size_t k = 0; root != NULL && k < NT_ARRAY_LEN(keys); k++)
            CHECKF(cJSON_GetObjectItemCaseSensitive(root, keys[k]) != NULL, "%s: no \"%s\" in %s",
                   nt_job_type_name(job.type), keys[k], b1.data);
        const cJSON *v1 = cJSON_GetObjectItemCaseSensitive(root, "v");
        CHECKF(cJSON_IsNumber(v1) && v1->valueint == 1, "%s: v is not 1",
               nt_job_type_name(job.type));
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(root, "type");
        CHECKF(cJSON_IsString(ty) && strcmp(ty->valuestring, nt_job_type_name(job.type)) == 0,
               "%s: type field wrong in %s", nt_job_type_name(job.type), b1.data);
        cJSON_Delete(root);
        nt_buf_free(&b1);
        nt_buf_free(&b2);
        nt_job_clear(&job);
        nt_job_clear(&back);
    }

    /* created_at 0 and not_before 0 survive too */
    nt_job_t job, back;
    nt_buf_t b;
    nt_err_t err;
    char why[300];
    fill(&job, NT_JOB_CHECK);
    job.created_at_ms = 0;
    job.trace_id[0] = '\0';
    nt_buf_init(&b, 0);
    CHECK_INT(nt_job_encode(&job, &b), NT_OK);
    CHECK_INT(nt_job_decode(b.data, b.len, MAXB, &back, &err), NT_JOB_VERDICT_OK);
    CHECKF(job_equal(&job, &back, why, sizeof(why)), "minimal check differs: %s", why);
    ncases++;
    nt_buf_free(&b);

    /* encoding respects the buffer's cap */
    nt_buf_init(&b, 40);
    CHECK_INT(nt_job_encode(&job, &b), NT_ETOOBIG);
    ncases++;
    nt_buf_free(&b);
}

/* Hostile strings in label and evidence survive encode/decode byte for byte,
 * as do ones written by another producer. */
static void test_hostile_strings(void)
{
    static const char *const labels[] = {SQL_1,      "a\"b\\c", "{\"v\":2}",
                                         "<script>", "%s%n%x",  "\xe4\xb8\xad\xe6\x96\x87'--"};
    for (size_t i = 0; i < NT_ARRAY_LEN(labels); i++, ncases++) {
        nt_job_t job, back;
        nt_buf_t b;
        nt_err_t err;
        fill(&job, NT_JOB_TAG_UPDATE);
        snprintf(job.label, sizeof(job.label), "%s", labels[i]);
        nt_buf_init(&b, 0);
        CHECK_INT(nt_job_encode(&job, &b), NT_OK);
        nt_job_verdict_t v = nt_job_decode(b.data, b.len, MAXB, &back, &err);
        CHECKF(v == NT_JOB_VERDICT_OK, "label \"%s\": %s (%s)", labels[i], verdict_name(v),
               err.msg);
        CHECKF(strcmp(back.label, labels[i]) == 0, "label \"%s\" came back as \"%s\"", labels[i],
               back.label);
        nt_buf_free(&b);
    }
    static const char *const evidence[] = {SQL_1, SQL_2, ""};
    for (size_t i = 0; i < NT_ARRAY_LEN(evidence); i++, ncases++) {
        nt_job_t job, back;
        nt_buf_t b;
        nt_err_t err;
        fill(&job, NT_JOB_APPEAL);
        CHECK_INT(nt_job_set_evidence(&job, evidence[i]), NT_OK);
        nt_buf_init(&b, 0);
        CHECK_INT(nt_job_encode(&job, &b), NT_OK);
        nt_job_verdict_t v = nt_job_decode(b.data, b.len, MAXB, &back, &err);
        CHECKF(v == NT_JOB_VERDICT_OK, "evidence \"%s\": %s (%s)", evidence[i], verdict_name(v),
               err.msg);
        CHECKF(strcmp(nt_job_evidence(&back), evidence[i]) == 0,
               "evidence \"%s\" came back as \"%s\"", evidence[i], nt_job_evidence(&back));
        nt_buf_free(&b);
        nt_job_clear(&job);
        nt_job_clear(&back);
    }
    /* written by hand, as another producer might */
    static const char msg[] = "{\"v\":1,\"id\":\"" ID_A "\",\"type\":\"tag_update\","
                              "\"number\":\"+8613800138000\",\"platform\":\"baidu\","
                              "\"tenant\":\"acme\",\"attempt\":0,"
                              "\"payload\":{\"label\":\"'; DROP TABLE jobs; --\"}}";
    nt_job_t job;
    nt_err_t err;
    ncases++;
    CHECK_INT(nt_job_decode(msg, strlen(msg), MAXB, &job, &err), NT_JOB_VERDICT_OK);
    CHECK_STR(job.label, SQL_1);
    static const char msg2[] = "{\"v\":1,\"id\":\"" ID_A "\",\"type\":\"appeal\","
                               "\"number\":\"+8613800138000\",\"platform\":\"baidu\","
                               "\"tenant\":\"acme\",\"payload\":{\"mark_type\":\"fraud\","
                               "\"evidence\":\"x'); DELETE FROM marks; --\\u4e2d\"}}";
    ncases++;
    CHECK_INT(nt_job_decode(msg2, strlen(msg2), MAXB, &job, &err), NT_JOB_VERDICT_OK);
    CHECK_STR(nt_job_evidence(&job), "x'); DELETE FROM marks; --\xe4\xb8\xad");
    nt_job_clear(&job);
}

/* One decode row: the message, the verdict, a fragment err.msg must contain,
 * and (for INVALID) the id the failure is recorded under. */
typedef struct decode_row_s {
    const char *name;
    const char *msg;
    size_t len; /* 0: strlen(msg) */
    size_t max_bytes;
    nt_job_verdict_t verdict;
    const char *reason; /* substring of err.msg; NULL for OK */
    const char *id;     /* expected job.id after decode (INVALID, OK) */
} decode_row_t;

#define HEAD(type)                                                                                 \
    "{\"v\":1,\"id\":\"" ID_A "\",\"type\":\"" type "\",\"number\":\"+8613800138000\","            \
    "\"platform\":\"baidu\",\"tenant\":\"acme\",\"attempt\":0,"                                    \
    "\"created_at\":\"2026-11-28T00:00:00.000Z\""
#define CHECK_MSG HEAD("check") ",\"payload\":{}}"
/* a message with one field replaced: everything but the named field */
#define ENV(fields)      "{\"v\":1,\"id\":\"" ID_A "\"," fields "}"
#define REST_NO_NUMBER   "\"type\":\"check\",\"platform\":\"baidu\",\"tenant\":\"acme\""
#define REST_NO_PLATFORM "\"type\":\"check\",\"number\":\"+8613800138000\",\"tenant\":\"acme\""
#define REST_NO_TENANT   "\"type\":\"check\",\"number\":\"+8613800138000\",\"platform\":\"baidu\""
#define REST_NO_TYPE     "\"number\":\"+8613800138000\",\"platform\":\"baidu\",\"tenant\":\"acme\""
#define REST_ALL         REST_NO_TYPE ",\"type\":\"check\""

#define L10 "0123456789"
#define L64 L10 L10 L10 L10 L10 L10 "0123"
#define ZH8                                                                                        \
    "\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8" \
    "\xad"
#define ZH64 ZH8 ZH8 ZH8 ZH8 ZH8 ZH8 ZH8 ZH8

static const decode_row_t decode_rows[] = {
    /* ---- OK ---- */
    {"check", CHECK_MSG, 0, MAXB, NT_JOB_VERDICT_OK, NULL, ID_A},
    {"check without payload or times", ENV(REST_ALL), 0, MAXB, NT_JOB_VERDICT_OK, NULL, ID_A},
    {"id in upper case is normalised",
     "{\"v\":1,\"id\":\"0A9321D4-F68A-5081-9FCD-D0123A4C3167\"," REST_ALL "}", 0, MAXB,
     NT_JOB_VERDICT_OK, NULL, ID_A},
    {"v as 1.0", "{\"v\":1.0,\"id\":\"" ID_A "\"," REST_ALL "}", 0, MAXB, NT_JOB_VERDICT_OK, NULL,
     ID_A},
    {"unknown extra field ignored", ENV(REST_ALL ",\"future\":{\"x\":[1,2]}"), 0, MAXB,
     NT_JOB_VERDICT_OK, NULL, ID_A},
    {"attempt 1000", ENV(REST_ALL ",\"attempt\":1000"), 0, MAXB, NT_JOB_VERDICT_OK, NULL, ID_A},
    {"not_before with offset", ENV(REST_ALL ",\"not_before\":\"2026-11-28T08:00:00+08:00\""), 0,
     MAXB, NT_JOB_VERDICT_OK, NULL, ID_A},
    {"label of 64 ASCII characters", HEAD("tag_update") ",\"payload\":{\"label\":\"" L64 "\"}}", 0,
     MAXB, NT_JOB_VERDICT_OK, NULL, ID_A},
    {"label of 64 Chinese characters", HEAD("tag_update") ",\"payload\":{\"label\":\"" ZH64 "\"}}",
     0, MAXB, NT_JOB_VERDICT_OK, NULL, ID_A},
    {"appeal", HEAD("appeal") ",\"payload\":{\"mark_type\":\"fraud\",\"evidence\":\"e\"}}", 0, MAXB,
     NT_JOB_VERDICT_OK, NULL, ID_A},
    {"appeal_status",
     HEAD("appeal_status") ",\"payload\":{\"mark_type\":\"fraud\",\"ticket\":\"t1\","
                           "\"appeal_job\":\"" ID_B "\"}}",
     0, MAXB, NT_JOB_VERDICT_OK, NULL, ID_A},
    {"exactly max_bytes", CHECK_MSG, 0, sizeof(CHECK_MSG) - 1, NT_JOB_VERDICT_OK, NULL, ID_A},
    {"a re-run with its origin", ENV(REST_ALL ",\"origin\":\"" ID_B "\""), 0, MAXB,
     NT_JOB_VERDICT_OK, NULL, ID_A},

    /* ---- INVALID: an id, and a field that is wrong ---- */
    {"origin not a UUID", ENV(REST_ALL ",\"origin\":\"not-a-uuid\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field origin", ID_A},
    {"origin not a string", ENV(REST_ALL ",\"origin\":7"), 0, MAXB, NT_JOB_VERDICT_INVALID,
     "field origin", ID_A},
    {"number without +", ENV(REST_NO_NUMBER ",\"number\":\"8613800138000\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field number", ID_A},
    {"number with leading 0", ENV(REST_NO_NUMBER ",\"number\":\"+08613800138000\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field number", ID_A},
    {"number too short", ENV(REST_NO_NUMBER ",\"number\":\"+1234567\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field number", ID_A},
    {"number with letters", ENV(REST_NO_NUMBER ",\"number\":\"+86138abc38000\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field number", ID_A},
    {"number far too long",
     ENV(REST_NO_NUMBER ",\"number\":\"+8613800138000861380013800086138001380008613800138000\""), 0,
     MAXB, NT_JOB_VERDICT_INVALID, "field number", ID_A},
    {"number as a JSON number", ENV(REST_NO_NUMBER ",\"number\":8613800138000"), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field number", ID_A},
    {"number missing", ENV(REST_NO_NUMBER), 0, MAXB, NT_JOB_VERDICT_INVALID, "field number", ID_A},
    {"platform upper case", ENV(REST_NO_PLATFORM ",\"platform\":\"Baidu\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field platform", ID_A},
    {"platform with a space", ENV(REST_NO_PLATFORM ",\"platform\":\"bai du\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field platform", ID_A},
    {"platform starting with -", ENV(REST_NO_PLATFORM ",\"platform\":\"-baidu\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field platform", ID_A},
    {"platform with a dot", ENV(REST_NO_PLATFORM ",\"platform\":\"baidu.com\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field platform", ID_A},
    {"platform empty", ENV(REST_NO_PLATFORM ",\"platform\":\"\""), 0, MAXB, NT_JOB_VERDICT_INVALID,
     "field platform", ID_A},
    {"platform of 64 characters", ENV(REST_NO_PLATFORM ",\"platform\":\"" L64 "\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field platform", ID_A},
    {"platform of 100 characters",
     ENV(REST_NO_PLATFORM ",\"platform\":\"" L64 "0123456789012345678901234567890123456\""), 0,
     MAXB, NT_JOB_VERDICT_INVALID, "field platform", ID_A},
    {"platform missing", ENV(REST_NO_PLATFORM), 0, MAXB, NT_JOB_VERDICT_INVALID, "field platform",
     ID_A},
    {"tenant empty", ENV(REST_NO_TENANT ",\"tenant\":\"\""), 0, MAXB, NT_JOB_VERDICT_INVALID,
     "field tenant", ID_A},
    {"tenant with a space", ENV(REST_NO_TENANT ",\"tenant\":\"acme corp\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field tenant", ID_A},
    {"tenant starting with _", ENV(REST_NO_TENANT ",\"tenant\":\"_acme\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field tenant", ID_A},
    {"tenant with SQL", ENV(REST_NO_TENANT ",\"tenant\":\"" SQL_1 "\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field tenant", ID_A},
    {"tenant of 64 characters", ENV(REST_NO_TENANT ",\"tenant\":\"" L64 "\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field tenant", ID_A},
    {"tenant missing", ENV(REST_NO_TENANT), 0, MAXB, NT_JOB_VERDICT_INVALID, "field tenant", ID_A},
    {"type unknown", ENV(REST_NO_TYPE ",\"type\":\"delete\""), 0, MAXB, NT_JOB_VERDICT_INVALID,
     "field type", ID_A},
    {"type in upper case", ENV(REST_NO_TYPE ",\"type\":\"CHECK\""), 0, MAXB, NT_JOB_VERDICT_INVALID,
     "field type", ID_A},
    {"type as a number", ENV(REST_NO_TYPE ",\"type\":0"), 0, MAXB, NT_JOB_VERDICT_INVALID,
     "field type", ID_A},
    {"type missing", ENV(REST_NO_TYPE), 0, MAXB, NT_JOB_VERDICT_INVALID, "field type", ID_A},
    {"attempt -1", ENV(REST_ALL ",\"attempt\":-1"), 0, MAXB, NT_JOB_VERDICT_INVALID,
     "field attempt", ID_A},
    {"attempt 1001", ENV(REST_ALL ",\"attempt\":1001"), 0, MAXB, NT_JOB_VERDICT_INVALID,
     "field attempt", ID_A},
    {"attempt 1e300", ENV(REST_ALL ",\"attempt\":1e300"), 0, MAXB, NT_JOB_VERDICT_INVALID,
     "field attempt", ID_A},
    {"attempt 1.5", ENV(REST_ALL ",\"attempt\":1.5"), 0, MAXB, NT_JOB_VERDICT_INVALID,
     "field attempt", ID_A},
    {"attempt as a string", ENV(REST_ALL ",\"attempt\":\"1\""), 0, MAXB, NT_JOB_VERDICT_INVALID,
     "field attempt", ID_A},
    {"created_at 2026-02-30", ENV(REST_ALL ",\"created_at\":\"2026-02-30T00:00:00Z\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field created_at", ID_A},
    {"created_at as epoch ms", ENV(REST_ALL ",\"created_at\":1795824000000"), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field created_at", ID_A},
    {"not_before garbage", ENV(REST_ALL ",\"not_before\":\"tomorrow\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field not_before", ID_A},
    {"not_before without offset", ENV(REST_ALL ",\"not_before\":\"2026-11-28T00:00:00\""), 0, MAXB,
     NT_JOB_VERDICT_INVALID, "field not_before", ID_A},
    {"tag_update without payload", HEAD("tag_update") "}", 0, MAXB, NT_JOB_VERDICT_INVALID,
     "payload.label", ID_A},
    {"tag_update without label", HEAD("tag_update") ",\"payload\":{}}", 0, MAXB,
     NT_JOB_VERDICT_INVALID, "payload.label", ID_A},
    {"tag_update with empty label", HEAD("tag_update") ",\"payload\":{\"label\":\"\"}}", 0, MAXB,
     NT_JOB_VERDICT_INVALID, "payload.label", ID_A},
    {"label of 65 characters", HEAD("tag_update") ",\"payload\":{\"label\":\"" L64 "x\"}}", 0, MAXB,
     NT_JOB_VERDICT_INVALID, "payload.label", ID_A},
    {"label of 65 Chinese characters",
     HEAD("tag_update") ",\"payload\":{\"label\":\"" ZH64 "\xe4\xb8\xad\"}}", 0, MAXB,
     NT_JOB_VERDICT_INVALID, "payload.label", ID_A},
    {"label of 300 bytes",
     HEAD("tag_update") ",\"payload\":{\"label\":\"" L64 L64 L64 L64 L64 "\"}}", 0, MAXB,
     NT_JOB_VERDICT_INVALID, "payload.label", ID_A},
    {"label as a number", HEAD("tag_update") ",\"payload\":{\"label\":7}}", 0, MAXB,
     NT_JOB_VERDICT_INVALID, "payload.label", ID_A},
    {"payload as an array", HEAD("tag_update") ",\"payload\":[\"label\"]}", 0, MAXB,
     NT_JOB_VERDICT_INVALID, "payload", ID_A},
    {"appeal without mark_type", HEAD("appeal") ",\"payload\":{\"evidence\":\"e\"}}", 0, MAXB,
     NT_JOB_VERDICT_INVALID, "payload.mark_type", ID_A},
    {"appeal with unknown mark_type", HEAD("appeal") ",\"payload\":{\"mark_type\":\"spam\"}}", 0,
     MAXB, NT_JOB_VERDICT_INVALID, "payload.mark_type", ID_A},
    {"appeal_status without ticket",
     HEAD("appeal_status") ",\"payload\":{\"mark_type\":\"fraud\"}}", 0, MAXB,
     NT_JOB_VERDICT_INVALID, "payload.ticket", ID_A},
    {"appeal_status with empty ticket",
     HEAD("appeal_status") ",\"payload\":{\"mark_type\":\"fraud\",\"ticket\":\"\"}}", 0, MAXB,
     NT_JOB_VERDICT_INVALID, "payload.ticket", ID_A},
    {"appeal_status with bad appeal_job",
     HEAD("appeal_status") ",\"payload\":{\"mark_type\":\"fraud\",\"ticket\":\"t\","
                           "\"appeal_job\":\"not-a-uuid\"}}",
     0, MAXB, NT_JOB_VERDICT_INVALID, "payload.appeal_job", ID_A},

    /* ---- POISON: nothing to record the failure under ---- */
    {"empty", "", 0, MAXB, NT_JOB_VERDICT_POISON, "empty", ""},
    {"one byte over max_bytes", CHECK_MSG, 0, sizeof(CHECK_MSG) - 2, NT_JOB_VERDICT_POISON,
     "max_bytes", ""},
    {"invalid UTF-8 in a string",
     "{\"v\":1,\"id\":\"" ID_A "\"," REST_NO_TENANT ",\"tenant\":\"ac\xffme\"}", 0, MAXB,
     NT_JOB_VERDICT_POISON, "UTF-8", ""},
    {"overlong UTF-8", "{\"v\":1,\"id\":\"" ID_A "\"," REST_NO_TENANT ",\"tenant\":\"\xc0\xae\"}",
     0, MAXB, NT_JOB_VERDICT_POISON, "UTF-8", ""},
    {"UTF-8 surrogate",
     "{\"v\":1,\"id\":\"" ID_A "\"," REST_NO_TENANT ",\"tenant\":\"\xed\xa0\x80\"}", 0, MAXB,
     NT_JOB_VERDICT_POISON, "UTF-8", ""},
    {"embedded NUL", "{\"v\":1,\"id\":\"" ID_A "\",\0" REST_ALL "}",
     sizeof("{\"v\":1,\"id\":\"" ID_A "\",\0" REST_ALL "}") - 1, MAXB, NT_JOB_VERDICT_POISON,
     "UTF-8", ""},
    {"NUL after the object", CHECK_MSG "\0", sizeof(CHECK_MSG "\0") - 1, MAXB,
     NT_JOB_VERDICT_POISON, NULL, ""},
    {"not JSON", "hello", 0, MAXB, NT_JOB_VERDICT_POISON, "JSON", ""},
    {"truncated JSON", "{\"v\":1,\"id\":\"" ID_A "\",", 0, MAXB, NT_JOB_VERDICT_POISON, "JSON", ""},
    {"JSON array", "[{\"v\":1,\"id\":\"" ID_A "\"}]", 0, MAXB, NT_JOB_VERDICT_POISON, "JSON", ""},
    {"JSON string", "\"" ID_A "\"", 0, MAXB, NT_JOB_VERDICT_POISON, "JSON", ""},
    {"JSON number", "1", 0, MAXB, NT_JOB_VERDICT_POISON, "JSON", ""},
    {"JSON null", "null", 0, MAXB, NT_JOB_VERDICT_POISON, "JSON", ""},
    {"trailing garbage after the object", CHECK_MSG "garbage", 0, MAXB, NT_JOB_VERDICT_POISON, NULL,
     ""},
    {"two objects back to back", CHECK_MSG CHECK_MSG, 0, MAXB, NT_JOB_VERDICT_POISON, NULL, ""},
    {"v=2", "{\"v\":2,\"id\":\"" ID_A "\"," REST_ALL "}", 0, MAXB, NT_JOB_VERDICT_POISON, "version",
     ""},
    {"v=0", "{\"v\":0,\"id\":\"" ID_A "\"," REST_ALL "}", 0, MAXB, NT_JOB_VERDICT_POISON, "version",
     ""},
    {"v as a string", "{\"v\":\"1\",\"id\":\"" ID_A "\"," REST_ALL "}", 0, MAXB,
     NT_JOB_VERDICT_POISON, "version", ""},
    {"v missing", "{\"id\":\"" ID_A "\"," REST_ALL "}", 0, MAXB, NT_JOB_VERDICT_POISON, "version",
     ""},
    {"id missing", "{\"v\":1," REST_ALL "}", 0, MAXB, NT_JOB_VERDICT_POISON, "field id", ""},
    {"id not a UUID", "{\"v\":1,\"id\":\"job-1\"," REST_ALL "}", 0, MAXB, NT_JOB_VERDICT_POISON,
     "field id", ""},
    {"id empty", "{\"v\":1,\"id\":\"\"," REST_ALL "}", 0, MAXB, NT_JOB_VERDICT_POISON, "field id",
     ""},
    {"id as a number", "{\"v\":1,\"id\":12345," REST_ALL "}", 0, MAXB, NT_JOB_VERDICT_POISON,
     "field id", ""},
    {"id too long", "{\"v\":1,\"id\":\"" ID_A "0\"," REST_ALL "}", 0, MAXB, NT_JOB_VERDICT_POISON,
     "field id", ""},
    {"id with braces", "{\"v\":1,\"id\":\"{" ID_A "}\"," REST_ALL "}", 0, MAXB,
     NT_JOB_VERDICT_POISON, "field id", ""},
};

static void test_decode_table(void)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(decode_rows); i++, ncases++) {
        const decode_row_t *r = &decode_rows[i];
        nt_job_t job;
        nt_err_t err;
        size_t len = r->len ? r->len : strlen(r->msg);
        memset(&job, 0x5a, sizeof(job));
        nt_job_verdict_t v = nt_job_decode(r->msg, len, r->max_bytes, &job, &err);
        CHECKF(v == r->verdict, "decode \"%s\": %s (%s), want %s", r->name, verdict_name(v),
               err.msg, verdict_name(r->verdict));
        if (r->verdict == NT_JOB_VERDICT_OK) {
            CHECKF(err.code == NT_OK, "decode \"%s\": OK but err.code %d", r->name, err.code);
        } else {
            CHECKF(err.code < 0 && err.msg[0] != '\0', "decode \"%s\": no error set", r->name);
            CHECKF(!err.retriable, "decode \"%s\": a bad message is not retriable", r->name);
        }
        if (r->reason != NULL)
            CHECKF(strstr(err.msg, r->reason) != NULL,
                   "decode \"%s\": reason \"%s\" does not name \"%s\"", r->name, err.msg,
                   r->reason);
        CHECKF(strcmp(job.id, r->id) == 0, "decode \"%s\": id \"%s\", want \"%s\"", r->name, job.id,
               r->id);
        /* every string field is NUL-terminated whatever the verdict */
        CHECKF(memchr(job.number, '\0', sizeof(job.number)) &&
                   memchr(job.platform, '\0', sizeof(job.platform)) &&
                   memchr(job.tenant, '\0', sizeof(job.tenant)) &&
                   memchr(job.label, '\0', sizeof(job.label)),
               "decode \"%s\": a field is not terminated", r->name);
        /* the reason never shows a full phone number */
        CHECKF(strstr(err.msg, "8613800138000") == NULL, "decode \"%s\": reason shows a number: %s",
               r->name, err.msg);
        nt_job_clear(&job);
    }
    /* NULL data */
    nt_job_t job;
    nt_err_t err;
    ncases++;
    CHECK_INT(nt_job_decode(NULL, 0, MAXB, &job, &err), NT_JOB_VERDICT_POISON);
    CHECK_INT(nt_job_decode(NULL, 10, MAXB, &job, &err), NT_JOB_VERDICT_POISON);
    /* oversized reports NT_ETOOBIG */
    ncases++;
    CHECK_INT(nt_job_decode(CHECK_MSG, strlen(CHECK_MSG), 100, &job, &err), NT_JOB_VERDICT_POISON);
    CHECK_INT(err.code, NT_ETOOBIG);

    /* INVALID keeps what could be read, so the failure can be recorded */
    static const char longnum[] =
        ENV(REST_NO_NUMBER ",\"number\":\"+8613800138000861380013800086138001380008613800138000\"");
    ncases++;
    CHECK_INT(nt_job_decode(longnum, strlen(longnum), MAXB, &job, &err), NT_JOB_VERDICT_INVALID);
    CHECK_INT(strlen(job.number), NT_JOB_NUMBER_MAX - 1);
    CHECK(strncmp(job.number, "+8613800138000861380013800086138", NT_JOB_NUMBER_MAX - 1) == 0);
    CHECK_STR(job.platform, "baidu");
    CHECK_STR(job.tenant, "acme");
    CHECK_INT(job.type, NT_JOB_CHECK);

    static const char badtenant[] = HEAD("tag_update") ",\"payload\":{\"label\":\"" L64 "x\"}}";
    ncases++;
    CHECK_INT(nt_job_decode(badtenant, strlen(badtenant), MAXB, &job, &err),
              NT_JOB_VERDICT_INVALID);
    CHECK_INT(job.type, NT_JOB_TAG_UPDATE);
    CHECK_STR(job.number, "+8613800138000");
}

/* Every strict prefix of a valid envelope is POISON; random corruption never
 * crashes the decoder and whatever it accepts validates. */
static void test_truncation_and_corruption(void)
{
    nt_job_t job;
    nt_buf_t b;
    nt_err_t err;
    fill(&job, NT_JOB_APPEAL_STATUS);
    nt_buf_init(&b, 0);
    CHECK_INT(nt_job_encode(&job, &b), NT_OK);
    for (size_t len = 1; len < b.len; len++, ncases++) {
        nt_job_t out;
        nt_job_verdict_t v = nt_job_decode(b.data, len, MAXB, &out, &err);
        CHECKF(v == NT_JOB_VERDICT_POISON, "prefix of %zu/%zu bytes: %s (%s)", len, b.len,
               verdict_name(v), err.msg);
        nt_job_clear(&out);
    }

    uint64_t s = 0x9e3779b97f4a7c15ULL;
    char *m = malloc(b.len);
    CHECK(m != NULL);
    for (int round = 0; m != NULL && round < 20000; round++) {
        memcpy(m, b.data, b.len);
        int flips = 1 + round % 4;
        for (int f = 0; f < flips; f++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            m[(s >> 8) % b.len] = (char)(s >> 40);
        }
        nt_job_t out;
        nt_job_verdict_t v = nt_job_decode(m, b.len, MAXB, &out, &err);
        if (v == NT_JOB_VERDICT_OK) {
            nt_err_t verr;
            CHECKF(nt_job_validate(&out, &verr) == NT_OK, "corrupted message accepted: %s",
                   verr.msg);
        } else if (v == NT_JOB_VERDICT_INVALID) {
            CHECKF(nt_uuid_is_valid(out.id), "INVALID without an id: \"%s\"", out.id);
        } else {
            CHECKF(v == NT_JOB_VERDICT_POISON, "unknown verdict %d", v);
        }
        nt_job_clear(&out);
    }
    ncases++;
    free(m);
    nt_buf_free(&b);

    /* deep nesting is refused, not followed */
    nt_buf_init(&b, 0);
    int rc = nt_buf_puts(&b, "{\"v\":1,\"id\":\"" ID_A "\",\"x\":");
    for (int i = 0; rc == NT_OK && i < 20000; i++)
        rc = nt_buf_putc(&b, '[');
    for (int i = 0; rc == NT_OK && i < 20000; i++)
        rc = nt_buf_putc(&b, ']');
    if (rc == NT_OK)
        rc = nt_buf_puts(&b, "," REST_ALL "}");
    CHECK_INT(rc, NT_OK);
    ncases++;
    CHECK_INT(nt_job_decode(b.data, b.len, b.len, &job, &err), NT_JOB_VERDICT_POISON);
    nt_buf_free(&b);
}

static void mut_none(nt_job_t *job)
{
    (void)job;
}
static void mut_v2(nt_job_t *job)
{
    job->v = 2;
}
static void mut_id(nt_job_t *job)
{
    snprintf(job->id, sizeof(job->id), "nope");
}
static void mut_type(nt_job_t *job)
{
    job->type = (nt_job_type_t)NT_JOB_NTYPES;
}
static void mut_number(nt_job_t *job)
{
    snprintf(job->number, sizeof(job->number), "+8613812345678x");
}
static void mut_platform(nt_job_t *job)
{
    snprintf(job->platform, sizeof(job->platform), "Baidu");
}
static void mut_tenant(nt_job_t *job)
{
    job->tenant[0] = '\0';
}
static void mut_attempt(nt_job_t *job)
{
    job->attempt = NT_JOB_MAX_ATTEMPT + 1;
}
static void mut_attempt_neg(nt_job_t *job)
{
    job->attempt = -1;
}
static void mut_label_utf8(nt_job_t *job)
{
    snprintf(job->label, sizeof(job->label), "ab\xff");
}
static void mut_label_empty(nt_job_t *job)
{
    job->label[0] = '\0';
}
static void mut_mark(nt_job_t *job)
{
    snprintf(job->mark_type, sizeof(job->mark_type), "spam");
}
static void mut_ticket(nt_job_t *job)
{
    job->ticket[0] = '\0';
}

/* nt_job_validate, the producer's check: one field broken per row. */
static void test_validate(void)
{
    static const struct {
        const char *name;
        nt_job_type_t type;
        void (*mutate)(nt_job_t *);
        const char *reason; /* NULL: valid */
    } rows[] = {
        {"valid check", NT_JOB_CHECK, mut_none, NULL},
        {"valid tag_update", NT_JOB_TAG_UPDATE, mut_none, NULL},
        {"valid appeal", NT_JOB_APPEAL, mut_none, NULL},
        {"valid appeal_status", NT_JOB_APPEAL_STATUS, mut_none, NULL},
        {"v=2", NT_JOB_CHECK, mut_v2, "field v"},
        {"bad id", NT_JOB_CHECK, mut_id, "field id"},
        {"bad type", NT_JOB_CHECK, mut_type, "field type"},
        {"bad number", NT_JOB_CHECK, mut_number, "field number"},
        {"bad platform", NT_JOB_CHECK, mut_platform, "field platform"},
        {"empty tenant", NT_JOB_CHECK, mut_tenant, "field tenant"},
        {"attempt too big", NT_JOB_CHECK, mut_attempt, "field attempt"},
        {"attempt negative", NT_JOB_CHECK, mut_attempt_neg, "field attempt"},
        {"label not UTF-8", NT_JOB_TAG_UPDATE, mut_label_utf8, "payload.label"},
        {"label empty", NT_JOB_TAG_UPDATE, mut_label_empty, "payload.label"},
        {"unknown mark type", NT_JOB_APPEAL, mut_mark, "payload.mark_type"},
        {"appeal_status without ticket", NT_JOB_APPEAL_STATUS, mut_ticket, "payload.ticket"},
        {"valid tag_status", NT_JOB_TAG_STATUS, mut_none, NULL},
        {"tag_status without ticket", NT_JOB_TAG_STATUS, mut_ticket, "payload.ticket"},
        {"valid renewal", NT_JOB_RENEWAL, mut_none, NULL},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_job_t job;
        nt_err_t err;
        fill(&job, rows[i].type);
        rows[i].mutate(&job);
        nt_err_clear(&err);
        int rc = nt_job_validate(&job, &err);
        CHECKF(rc == (rows[i].reason ? NT_EINVAL : NT_OK), "validate \"%s\": rc %d (%s)",
               rows[i].name, rc, err.msg);
        if (rows[i].reason != NULL)
            CHECK_CONTAINS(rows[i].name, err.msg, rows[i].reason);
        /* a bad number is named masked, never in full */
        CHECK_LACKS(rows[i].name, err.msg, "8613812345678");
        nt_job_clear(&job);
    }
}

/* The appeal builder shared by the worker's fast path and `enqueue appeal`
 * (issue 15 item 9): the id is UUIDv5 of appeal|number|platform|mark|opening
 * time in ms, computed here independently; the evidence is the statement
 * plus the extra; a bad field is refused naming it. */
static void test_build_appeal(void)
{
    static const struct {
        const char *tenant, *mark, *extra;
        int64_t opened_ms;
        int rc;
        const char *evidence_has; /* or the field named on failure */
    } rows[] = {
        {"acme", "harassment", NULL, 1764547200123LL, NT_OK,
         "Number verified for enterprise acme; the harassment mark is disputed"},
        {"", "fraud", " Callee reports: 2 in the last 90 days.", 1LL, NT_OK,
         "enterprise unknown; the fraud mark is disputed, qualification on file. Callee reports"},
        {"acme", "nonsense", NULL, 5LL, NT_EINVAL, "payload.mark_type"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_job_t job, again;
        nt_err_t err;
        nt_err_clear(&err);
        nt_appeal_spec_t spec = {"+8613800138000",  "baidu",       rows[i].tenant, rows[i].mark,
                                 rows[i].opened_ms, rows[i].extra, T_2026};
        int rc = nt_job_build_appeal(&job, &spec, &err);
        CHECKF(rc == rows[i].rc, "build_appeal row %zu: rc %d (%s)", i, rc, err.msg);
        if (rc != NT_OK) {
            CHECK_CONTAINS("build_appeal error", err.msg, rows[i].evidence_has);
            nt_job_clear(&job); /* built, invalid: it owns its evidence all the same */
            continue;
        }
        char period[32], want[NT_UUID_STRLEN];
        snprintf(period, sizeof(period), "%lld", (long long)rows[i].opened_ms);
        const char *fields[] = {"appeal", "+8613800138000", "baidu", rows[i].mark, period};
        nt_uuid_v5_fields(want, fields, NT_ARRAY_LEN(fields));
        CHECK_STR(job.id, want);
        CHECK_INT(job.type, NT_JOB_APPEAL);
        CHECK_CONTAINS("build_appeal evidence", nt_job_evidence(&job), rows[i].evidence_has);
        CHECK_INT(job.created_at_ms, T_2026);
        /* spec pointing into the job being built (as enqueue does) */
        nt_appeal_spec_t inplace = {job.number,        job.platform,  job.tenant, job.mark_type,
                                    rows[i].opened_ms, rows[i].extra, T_2026};
        char *held = job.evidence; /* build_appeal overwrites the job, owning nothing of it */
        job.evidence = NULL;
        CHECK_INT(nt_job_build_appeal(&job, &inplace, NULL), NT_OK);
        free(held);
        CHECK_STR(job.id, want);
        /* the same mark later (another extra, another time of building): the same id */
        nt_appeal_spec_t later = spec;
        later.extra_evidence = " other";
        later.now_ms = T_2026 + 86400000;
        CHECK_INT(nt_job_build_appeal(&again, &later, NULL), NT_OK);
        CHECK_STR(again.id, job.id);
        nt_job_clear(&job);
        nt_job_clear(&again);
    }
}

static void test_make_id(void)
{
    nt_job_t job;
    nt_job_init(&job);
    job.type = NT_JOB_CHECK;
    snprintf(job.number, sizeof(job.number), "+8613800138000");
    snprintf(job.platform, sizeof(job.platform), "baidu");

    /* the independent vector (see the top of the file); NULL extra = "" */
    nt_job_make_id(&job, NULL, "2026-11-28");
    CHECK_STR(job.id, ID_A);
    nt_job_make_id(&job, "", "2026-11-28");
    CHECK_STR(job.id, ID_A);
    nt_job_make_id(&job, "", "2026-11-29");
    CHECK_STR(job.id, ID_B);
    ncases += 3;

    /* same inputs, same id; any field changed, a different id */
    static const struct {
        nt_job_type_t type;
        const char *number, *platform, *extra, *period;
    } rows[] = {
        {NT_JOB_CHECK, "+8613800138000", "baidu", "", "2026-11-28"},
        {NT_JOB_TAG_UPDATE, "+8613800138000", "baidu", "", "2026-11-28"},
        {NT_JOB_APPEAL, "+8613800138000", "baidu", "", "2026-11-28"},
        {NT_JOB_APPEAL_STATUS, "+8613800138000", "baidu", "", "2026-11-28"},
        {NT_JOB_CHECK, "+8613800138001", "baidu", "", "2026-11-28"},
        {NT_JOB_CHECK, "+8613800138000", "tencent", "", "2026-11-28"},
        {NT_JOB_CHECK, "+8613800138000", "baidu", "x", "2026-11-28"},
        {NT_JOB_CHECK, "+8613800138000", "baidu", "", "2026-11-29"},
        {NT_JOB_CHECK, "+8613800138000", "baidu", "", "run-42"},
        {NT_JOB_TAG_UPDATE, "+8613800138000", "baidu", "新标签", "2026-11-28"},
        {NT_JOB_TAG_UPDATE, "+8613800138000", "baidu", "新标签 ", "2026-11-28"},
        {NT_JOB_APPEAL, "+8613800138000", "baidu", "fraud", "2026-11-28"},
        {NT_JOB_APPEAL, "+8613800138000", "baidu", "harassment", "2026-11-28"},
    };
    char ids[NT_ARRAY_LEN(rows)][NT_UUID_STRLEN];
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_job_init(&job);
        job.type = rows[i].type;
        snprintf(job.number, sizeof(job.number), "%s", rows[i].number);
        snprintf(job.platform, sizeof(job.platform), "%s", rows[i].platform);
        nt_job_make_id(&job, rows[i].extra, rows[i].period);
        snprintf(ids[i], sizeof(ids[i]), "%s", job.id);
        nt_job_make_id(&job, rows[i].extra, rows[i].period);
        CHECKF(strcmp(job.id, ids[i]) == 0, "make_id row %zu not deterministic: %s then %s", i,
               ids[i], job.id);
        CHECKF(nt_uuid_is_valid(job.id), "make_id row %zu: %s is not a UUID", i, job.id);
        CHECKF(job.id[14] == '5', "make_id row %zu: %s: version nibble %c, want 5", i, job.id,
               job.id[14]);
        CHECKF(strchr("89ab", job.id[19]) != NULL,
               "make_id row %zu: %s: variant nibble %c, want 8, 9, a or b", i, job.id, job.id[19]);
        for (size_t j = 0; j < i; j++)
            CHECKF(strcmp(ids[i], ids[j]) != 0, "make_id rows %zu and %zu share id %s", j, i,
                   ids[i]);
    }
    /* the id does not depend on fields outside the name */
    nt_job_t a, b2;
    fill(&a, NT_JOB_CHECK);
    fill(&b2, NT_JOB_CHECK);
    snprintf(b2.tenant, sizeof(b2.tenant), "other");
    b2.attempt = 3;
    b2.created_at_ms += 999;
    nt_job_make_id(&a, NULL, "2026-11-28");
    nt_job_make_id(&b2, NULL, "2026-11-28");
    ncases++;
    CHECK_STR(a.id, b2.id);
    CHECK_STR(a.id, ID_A);
}

/* Regression (found by fuzz_job_decode): a not_before at or before the
 * epoch was decoded as given and encoded as absent; it is now due at once
 * (1 ms) both ways, so decode, encode, decode agree. */
static void test_not_before_epoch(void)
{
    static const char *const times[] = {"1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z",
                                        "0001-01-01T00:00:00Z"};
    for (size_t i = 0; i < NT_ARRAY_LEN(times); i++, ncases++) {
        char env[512];
        nt_job_t job, again;
        nt_err_t err;
        nt_buf_t out;
        snprintf(env, sizeof(env),
                 "{\"v\":1,\"id\":\"6f1c1c1e-0000-5000-8000-000000000009\",\"type\":\"check\","
                 "\"number\":\"+8613800138000\",\"platform\":\"baidu\",\"tenant\":\"acme\","
                 "\"not_before\":\"%s\",\"payload\":{}}",
                 times[i]);
        CHECK_INT(nt_job_decode(env, strlen(env), 65536, &job, &err), NT_JOB_VERDICT_OK);
        CHECKF(job.not_before_ms == 1, "not_before %s decoded as %lld, want 1", times[i],
               (long long)job.not_before_ms);
        nt_buf_init(&out, 0);
        CHECK_INT(nt_job_encode(&job, &out), NT_OK);
        CHECK_INT(nt_job_decode(out.data, out.len, 65536, &again, &err), NT_JOB_VERDICT_OK);
        CHECKF(again.not_before_ms == job.not_before_ms, "not_before %s: %lld after a round trip",
               times[i], (long long)again.not_before_ms);
        nt_buf_free(&out);
    }
}

int main(void)
{
    test_not_before_epoch();
    test_type_names();
    test_round_trip();
    test_hostile_strings();
    test_decode_table();
    test_truncation_and_corruption();
    test_validate();
    test_make_id();
    test_build_appeal();
    printf("test_job: %d cases\n", ncases);
    CHECK_DONE();
}
