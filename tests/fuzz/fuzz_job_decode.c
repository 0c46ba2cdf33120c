/*
 * fuzz_job_decode.c — libFuzzer target for nt_job_decode (common/job.h).
 *
 * Any bytes a Kafka peer sends are decoded with the production cap
 * (job.max_bytes 65536). The decoder must sort every input into a verdict
 * without crashing; an OK job must pass nt_job_validate, and encoding it and
 * decoding the encoding must give the same job, field by field (a worker
 * re-encodes jobs for the retry tiers, so a job that changes or turns
 * INVALID on the way is lost or altered).
 */
#include <inttypes.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "fuzz.h"
#include "job.h"

#define MAX_BYTES 65536

static void dump_job(const char *what, const nt_job_t *job)
{
    fprintf(stderr,
            "%s: v=%d id=\"%s\" type=%d number=\"%s\" platform=\"%s\" tenant=\"%s\" attempt=%d "
            "not_before_ms=%" PRId64 " created_at_ms=%" PRId64 " trace_id=\"%s\" label=\"%s\" "
            "mark_type=\"%s\" evidence=\"%s\" ticket=\"%s\" appeal_job=\"%s\"\n",
            what, job->v, job->id, (int)job->type, job->number, job->platform, job->tenant,
            job->attempt, job->not_before_ms, job->created_at_ms, job->trace_id, job->label,
            job->mark_type, nt_job_evidence(job), job->ticket, job->appeal_job);
}

/* Names the first field that differs, NULL when the jobs are the same. */
static const char *first_difference(const nt_job_t *a, const nt_job_t *b)
{
#define SAME_STR(f)                                                                                \
    if (strcmp(a->f, b->f) != 0)                                                                   \
    return #f
#define SAME_VAL(f)                                                                                \
    if (a->f != b->f)                                                                              \
    return #f
    SAME_VAL(v);
    SAME_STR(id);
    SAME_VAL(type);
    SAME_STR(number);
    SAME_STR(platform);
    SAME_STR(tenant);
    SAME_VAL(attempt);
    SAME_VAL(not_before_ms);
    SAME_VAL(created_at_ms);
    SAME_STR(trace_id);
    SAME_STR(label);
    SAME_STR(mark_type);
    if (strcmp(nt_job_evidence(a), nt_job_evidence(b)) != 0)
        return "evidence";
    SAME_STR(ticket);
    SAME_STR(appeal_job);
    return NULL;
#undef SAME_STR
#undef SAME_VAL
}

/* Every string field is terminated inside its array, whatever the verdict. */
static void check_terminated(const nt_job_t *job)
{
    FUZZ_CHECK(fuzz_is_cstr(job->id, sizeof(job->id)), "id not terminated");
    FUZZ_CHECK(fuzz_is_cstr(job->number, sizeof(job->number)), "number not terminated");
    FUZZ_CHECK(fuzz_is_cstr(job->platform, sizeof(job->platform)), "platform not terminated");
    FUZZ_CHECK(fuzz_is_cstr(job->tenant, sizeof(job->tenant)), "tenant not terminated");
    FUZZ_CHECK(fuzz_is_cstr(job->trace_id, sizeof(job->trace_id)), "trace_id not terminated");
    FUZZ_CHECK(fuzz_is_cstr(job->label, sizeof(job->label)), "label not terminated");
    FUZZ_CHECK(fuzz_is_cstr(job->mark_type, sizeof(job->mark_type)), "mark_type not terminated");
    FUZZ_CHECK(job->evidence == NULL || strlen(job->evidence) < NT_JOB_EVIDENCE_MAX,
               "evidence longer than NT_JOB_EVIDENCE_MAX");
    FUZZ_CHECK(fuzz_is_cstr(job->ticket, sizeof(job->ticket)), "ticket not terminated");
    FUZZ_CHECK(fuzz_is_cstr(job->appeal_job, sizeof(job->appeal_job)), "appeal_job not terminated");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nt_job_t job, again;
    nt_err_t err, err2;
    nt_buf_t out;

    nt_job_verdict_t verdict = nt_job_decode(data, size, MAX_BYTES, &job, &err);
    FUZZ_CHECK(verdict == NT_JOB_VERDICT_OK || verdict == NT_JOB_VERDICT_INVALID ||
                   verdict == NT_JOB_VERDICT_POISON,
               "verdict %d", (int)verdict);
    FUZZ_CHECK(fuzz_is_cstr(err.msg, sizeof(err.msg)), "err.msg not terminated");
    check_terminated(&job);
    if (verdict == NT_JOB_VERDICT_INVALID)
        FUZZ_CHECK(job.id[0] != '\0' && err.msg[0] != '\0', "INVALID without an id or a reason");
    if (verdict == NT_JOB_VERDICT_POISON)
        FUZZ_CHECK(err.msg[0] != '\0', "POISON without a reason");
    if (verdict != NT_JOB_VERDICT_OK) {
        nt_job_clear(&job);
        return 0;
    }

    FUZZ_CHECK(nt_job_validate(&job, &err) == NT_OK, "an OK job fails validation: %s", err.msg);
    nt_buf_init(&out, 1 << 20);
    int rc = nt_job_encode(&job, &out);
    FUZZ_CHECK(rc == NT_OK, "nt_job_encode: %d", rc);
    nt_job_verdict_t v2 = nt_job_decode(out.data, out.len, MAX_BYTES, &again, &err2);
    const char *diff = v2 == NT_JOB_VERDICT_OK ? first_difference(&job, &again) : "verdict";
    if (diff != NULL) {
        fprintf(stderr, "round trip changed the job (%s): second verdict %d (%s)\n", diff, (int)v2,
                err2.msg);
        fprintf(stderr, "encoded: %.*s\n", (int)out.len, out.data);
        dump_job("decoded", &job);
        dump_job("re-decoded", &again);
    }
    nt_buf_free(&out);
    FUZZ_CHECK(diff == NULL, "encode/decode round trip differs in field %s", diff);
    nt_job_clear(&job);
    nt_job_clear(&again);
    return 0;
}
