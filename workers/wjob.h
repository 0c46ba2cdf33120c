/*
 * wjob.h — one job inside a worker, from the Kafka message that carried it
 * to the commit of its result.
 *
 *   NEW ─► WAIT_KEY ─► CLAIM ─► WAIT_CALL ─► CALLING ─► WRITE ─► DONE
 *            (another job of the   (ledger      (rate limit,   (platform    (result
 *             same number runs)     attempts)    breaker)       call)        committed)
 *   side paths: HELD (retry tier not yet due), PRODUCE (retry tier or
 *   dead-letter topic, waiting for the delivery report).
 *
 * A wjob belongs to the worker; the writer and the platform-call code only
 * borrow it between hand-off and callback.
 */
#ifndef NT_WJOB_H
#define NT_WJOB_H

#include <stdbool.h>
#include <stdint.h>

#include "adapter.h"
#include "job.h"

typedef enum {
    WJ_NEW = 0,
    WJ_HELD,
    WJ_WAIT_KEY,
    WJ_CLAIM,
    WJ_WAIT_CALL,
    WJ_CALLING,
    WJ_WRITE,
    WJ_PRODUCE,
    WJ_DONE,
} wj_state_t;

/* What the writer records for a job. */
typedef enum {
    WR_NONE = 0,
    WR_CHECK,         /* check_results + observed state + marks + ledger done */
    WR_TAG,           /* tag_updates + ledger done */
    WR_APPEAL,        /* appeals + mark appealed + ledger done */
    WR_APPEAL_STATUS, /* appeals state + marks + ledger done */
    WR_LEDGER,        /* ledger only: failed / retrying */
    WR_DEAD,          /* dead_letters row (+ ledger dead when the id is known) */
    WR_TAG_STATUS,    /* tag_updates review state + ledger done */
    WR_RENEWAL,       /* renewals + ledger done */
} wr_kind_t;

#define WR_NKINDS 9

/* Why a job failed or died (jobs.error_class; `numtrust-producer retry
 * --class` selects by it). */
#define WJ_EC_AUTH       "auth"       /* the platform rejected our credentials */
#define WJ_EC_REJECTED   "rejected"   /* the platform refused the request (4xx, error code) */
#define WJ_EC_MAPPING    "mapping"    /* the answer could not be read */
#define WJ_EC_REQUEST    "request"    /* the request could not be built */
#define WJ_EC_CONFIG     "config"     /* platform or operation not configured here */
#define WJ_EC_INVALID    "invalid"    /* the message is not a valid job */
#define WJ_EC_UNWRITABLE "unwritable" /* PostgreSQL refused its row for good */
#define WJ_EC_CONFLICT   "conflict"   /* the platform answered a ticket another job holds */
#define WJ_EC_ATTEMPTS   "attempts"   /* max attempts reached (dead) */
#define WJ_EC_POISON     "poison"     /* not a job at all (dead) */
/* the result of a label update done without a call (its registration is not certified) */
#define WJ_RESULT_SKIPPED_UNCERTIFIED "skipped_uncertified"

typedef struct tpart_s tpart_t;

typedef struct wjob_s {
    struct wjob_s *next;     /* the queue the job sits in */
    struct wjob_s *key_next; /* jobs of the same number waiting behind this one */
    tpart_t *tp;             /* source partition; its tracker holds our offset */
    int topic_idx;
    const char *topic; /* source topic name (owned by the worker) */
    int32_t partition;
    int64_t offset;
    wj_state_t state;
    nt_job_verdict_t verdict;
    nt_job_t job;
    const nt_platform_t *platform;
    int attempts;       /* ledger attempts, after the claim */
    int claim_attempts; /* writer's scratch while matching claim rows */
    char claim_state[12];
    char claim_cert[16]; /* a label update's registration: its certification as last
                          * observed at the claim ("" unknown: never checked) */
    bool key_held;
    bool solo;          /* write alone: a batch containing it failed */
    int write_fails;    /* writer's scratch: transient failures of its single-row writes */
    uint64_t write_seq; /* ... and its kind's commits counted at the last one */
    bool abandoned;     /* its partition was revoked before it finished */
    bool key_mismatch;  /* its message is keyed with another number (error says which) */
    char *raw;          /* the message bytes for the dead-letter topic: at most the
                         * worker's dead-letter cap of them */
    size_t raw_len;
    size_t raw_size;     /* the message's full size */
    char raw_sha256[65]; /* SHA-256 of all its bytes (hex); "" until needed */
    size_t raw_cap;      /* raw's allocation, kept when the job is reused */
    char trace[64];

    /* what to write */
    wr_kind_t wkind;
    char ledger_state[12]; /* WR_LEDGER / WR_DEAD: failed, retrying, dead */
    const char *eclass;    /* failed or dead: why (a static string, WJ_EC_*); NULL otherwise */
    int refund;            /* attempts given back (a 429 is pacing, not failure) */
    bool no_bump;          /* to a retry tier without counting a delivery (never called) */
    const struct nt_kafka_tier_s *tier; /* the retry tier chosen; NULL: by attempts */
    char error[256];
    int64_t result_ms; /* when the platform answered */
    nt_check_state_t check;
    nt_ticket_t ticket;

    int64_t t0_us;   /* received from Kafka (latency metrics) */
    int64_t call_us; /* its platform call's time (the window's service time); 0: none */
} wjob_t;

#endif
