/*
 * job.h — the versioned job envelope carried on Kafka.
 *
 *   {"v":1,"id":UUID,"type":"check|tag_update|appeal|appeal_status|tag_status|renewal",
 *    "number":"+86…","platform":"…","tenant":"…","attempt":0,
 *    "not_before":RFC3339,"created_at":RFC3339,"trace_id":"…","origin":UUID,
 *    "payload":{…}}
 *
 * origin (optional) is set on a re-run (`numtrust-producer retry`): the id of
 * the job's first attempt, which stays the platforms' Idempotency-Key, so a
 * side effect the first attempt did get applied is never applied twice.
 *
 * Decoding sorts every message into one of three verdicts: OK; INVALID (the
 * message has a usable id but a field is wrong, e.g. a number that is not
 * E.164 — recorded as a failed job with its reason); POISON (not even that:
 * oversized, not UTF-8, not JSON, unknown version, no id — sent to the
 * dead-letter topic with its raw bytes). Nothing a peer sends can crash the
 * decoder or make it allocate past the size cap.
 */
#ifndef NT_JOB_H
#define NT_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "uuid.h"

#define NT_JOB_VERSION       1
#define NT_JOB_PLATFORM_MAX  64   /* bytes incl. NUL */
#define NT_JOB_TENANT_MAX    64   /* bytes incl. NUL */
#define NT_JOB_NUMBER_MAX    32   /* bytes incl. NUL; long enough to record bad input */
#define NT_JOB_TRACE_MAX     64   /* bytes incl. NUL */
#define NT_JOB_LABEL_MAX     256  /* bytes; at most 64 characters */
#define NT_JOB_EVIDENCE_MAX  4096 /* bytes */
#define NT_JOB_TICKET_MAX    128  /* bytes incl. NUL */
#define NT_JOB_MARK_TYPE_MAX 16   /* bytes incl. NUL */
#define NT_JOB_MAX_ATTEMPT   1000

typedef enum {
    NT_JOB_CHECK = 0,
    NT_JOB_TAG_UPDATE = 1,
    NT_JOB_APPEAL = 2,
    NT_JOB_APPEAL_STATUS = 3,
    NT_JOB_TAG_STATUS = 4, /* poll a tag update's review by ticket */
    NT_JOB_RENEWAL = 5,    /* ask a platform to renew a certification */
} nt_job_type_t;

#define NT_JOB_NTYPES 6

typedef enum {
    NT_JOB_VERDICT_OK = 0,
    NT_JOB_VERDICT_INVALID = 1,
    NT_JOB_VERDICT_POISON = 2,
} nt_job_verdict_t;

typedef struct nt_job_s {
    int v;
    char id[NT_UUID_STRLEN];
    nt_job_type_t type;
    char number[NT_JOB_NUMBER_MAX];
    char platform[NT_JOB_PLATFORM_MAX];
    char tenant[NT_JOB_TENANT_MAX];
    int attempt;
    int64_t not_before_ms; /* 0: none (due now); a decoded time at or before the
                            * epoch is kept as 1 */
    int64_t created_at_ms;
    char trace_id[NT_JOB_TRACE_MAX];
    char origin[NT_UUID_STRLEN]; /* re-runs: the first attempt's id; "" otherwise */
    /* payload, by type */
    char label[NT_JOB_LABEL_MAX];         /* tag_update: wanted label; tag_status: pushed */
    char mark_type[NT_JOB_MARK_TYPE_MAX]; /* appeal, appeal_status: taxonomy type */
    char *evidence; /* appeal: at most NT_JOB_EVIDENCE_MAX - 1 bytes, on the heap (a job is
                     * 2.9 KB without it: a worker holds thousands); NULL: none. Owned by
                     * the job: nt_job_clear frees it, nt_job_copy duplicates it */
    char ticket[NT_JOB_TICKET_MAX];  /* appeal_status, tag_status */
    char appeal_job[NT_UUID_STRLEN]; /* appeal_status: the appeal's job id */
} nt_job_t;

/* "check", "tag_update", "appeal", "appeal_status", "tag_status", "renewal". */
const char *nt_job_type_name(nt_job_type_t type);

/* Parses a type name. 0 or NT_EINVAL. */
int nt_job_type_parse(const char *s, nt_job_type_t *type) NT_MUSTCHECK;

/* Resets job to an empty v1 envelope (whatever it held is not freed: see
 * nt_job_clear). */
void nt_job_init(nt_job_t *job);

/* Frees what the job owns (its evidence) and resets it (nt_job_init). */
void nt_job_clear(nt_job_t *job);

/* Sets the evidence (a copy; NULL or "": none). NT_OK, NT_EINVAL when it is
 * NT_JOB_EVIDENCE_MAX bytes or longer, NT_ENOMEM. */
int nt_job_set_evidence(nt_job_t *job, const char *evidence) NT_MUSTCHECK;

/* The evidence, "" when none. */
const char *nt_job_evidence(const nt_job_t *job);

/* *dst = *src with its own copy of the evidence (dst is overwritten, not
 * cleared). NT_OK or NT_ENOMEM (dst then has no evidence). */
int nt_job_copy(nt_job_t *dst, const nt_job_t *src) NT_MUSTCHECK;

/* Decodes len bytes at data (not NUL-terminated) into job. Messages longer
 * than max_bytes are POISON. On INVALID, job->id is set and the other fields
 * hold what could be read (number truncated to fit) so the failure can be
 * recorded; err says why. */
nt_job_verdict_t nt_job_decode(const void *data, size_t len, size_t max_bytes, nt_job_t *job,
                               nt_err_t *err);

/* Checks every field of a job about to be produced; err names the field and
 * the value. 0 or NT_EINVAL. */
int nt_job_validate(const nt_job_t *job, nt_err_t *err) NT_MUSTCHECK;

/* Appends the JSON envelope of job to out. 0 or a buf error. */
int nt_job_encode(const nt_job_t *job, nt_buf_t *out) NT_MUSTCHECK;

/* The deterministic id of a job: UUIDv5 over "type|number|platform|extra|
 * period". extra distinguishes jobs of one type for one number and platform
 * (the label of a tag update, the mark type of an appeal, the ticket of a
 * status poll); period is the due period ("2026-11-28", a run id). */
void nt_job_make_id(nt_job_t *job, const char *extra, const char *period);

/* The key that makes a side effect of job idempotent at the platforms: its
 * origin when it re-runs an earlier job, else its own id. */
const char *nt_job_idempotency_key(const nt_job_t *job);

/* What the appeal of one mark is built from. */
typedef struct nt_appeal_spec_s {
    const char *number, *platform;
    const char *tenant;         /* "" or NULL: "unknown" */
    const char *mark_type;      /* taxonomy type */
    int64_t opened_ms;          /* when the mark was opened (its identity) */
    const char *extra_evidence; /* appended to the statement (callee feedback); may be NULL */
    int64_t now_ms;             /* created_at */
} nt_appeal_spec_t;

/* Builds the appeal job of a mark: id UUIDv5 of appeal|number|platform|mark
 * type|opening time in ms, evidence the enterprise's statement plus the
 * extra evidence. The one builder of the worker's fast path and of `enqueue
 * appeal`: the reconciler's appeals are the fast path's safety net only as
 * long as both give a mark the same id and envelope. 0, or NT_EINVAL with
 * err naming the field (job is then not valid), or NT_ENOMEM. job is
 * overwritten (what it owned is not freed) and, whatever the result, owns
 * its evidence: nt_job_clear it. */
int nt_job_build_appeal(nt_job_t *job, const nt_appeal_spec_t *spec, nt_err_t *err) NT_MUSTCHECK;

/* True for a tenant id: [A-Za-z0-9][A-Za-z0-9_.-], 1 to 63 characters. */
bool nt_job_is_tenant_id(const char *s);

/* True for a valid taxonomy mark type. */
bool nt_job_is_mark_type(const char *s);

#endif
