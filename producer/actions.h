/*
 * actions.h — the manual queue (docs/platforms.md, Manual platforms).
 *
 * A platform without a submission API ("dialect": "manual") gets its label
 * updates and appeals as action items instead of jobs: enqueue prepares each
 * one (the label or the mark, the evidence, the platform's web form filled
 * in), a person files it on the platform's site and records what the
 * platform decided. This module is the queue's C surface, for the enqueue
 * step, the CLI (`numtrust-producer actions`) and the control plane's API.
 * The rules live in SQL (migration 008a_manual_queue.sql): one open item per
 * subject, and nt_action_submit() / nt_action_done() record each step of an
 * item exactly once, writing the submission and its decision into
 * tag_updates / appeals as a worker would, so that service-level clocks and
 * reports cover manual platforms like the others.
 */
#ifndef NT_ACTIONS_H
#define NT_ACTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "job.h"
#include "pg.h"
#include "platforms.h"

/* ---- preparing items (enqueue) ---- */

typedef struct nt_actions_batch_s nt_actions_batch_t;

typedef struct nt_actions_stats_s {
    uint64_t offered;    /* rows offered */
    uint64_t created;    /* new items */
    uint64_t relabelled; /* an open tag item got the label wanted now */
    uint64_t known;      /* an item for the subject exists already: nothing changed */
} nt_actions_stats_t;

/* @returns a new, empty batch; free with nt_actions_batch_free(). NULL when
 * out of memory. */
nt_actions_batch_t *nt_actions_batch_new(void);
void nt_actions_batch_free(nt_actions_batch_t *b);

/* Prepares the item for job, a tag_update or appeal on manual platform p
 * whose id is made (nt_job_make_id): the item's id is the job's, so the same
 * selection in the same period offers the same item. The form is rendered
 * here (nt_adapter_render_form). 0, or NT_EINVAL with err (a job of another
 * type, no form for it, a variable without a value), or NT_ENOMEM. */
int nt_actions_offer(nt_actions_batch_t *b, const nt_platform_t *p, const nt_job_t *job,
                     nt_err_t *err) NT_MUSTCHECK;

/* Items offered and not written yet. */
size_t nt_actions_pending(const nt_actions_batch_t *b);

/* Writes the offered items in one statement on pg (inside the caller's
 * transaction, if any) and empties the batch. 0 or an error from pg. */
int nt_actions_flush(nt_actions_batch_t *b, nt_pg_t *pg, nt_err_t *err) NT_MUSTCHECK;

/* What the flushes so far did. */
void nt_actions_get_stats(const nt_actions_batch_t *b, nt_actions_stats_t *st);

/* ---- the queue (CLI and API) ---- */

typedef enum {
    NT_ACTION_SUBMIT, /* a person filed the item on the platform */
    NT_ACTION_DONE,   /* the platform decided: outcome */
} nt_action_step_t;

/* What recording a step did. */
typedef struct nt_action_result_s {
    char effect[16];  /* recorded | already (same step again: nothing changed) |
                       * conflict (done before with another outcome) | unknown (no item) */
    char kind[16];    /* tag_update | appeal */
    char state[16];   /* the item's state now: open | submitted | done */
    char outcome[16]; /* the outcome on record ("" before done) */
    char at[40];      /* when the step on record happened (numtrust time) */
} nt_action_result_t;

/* The outcomes a person may record for an item kind ("applied, rejected"),
 * or NULL for an unknown kind. */
const char *nt_actions_outcomes(const char *kind);

/* True when id is a full UUID ("3f2a...-..."). */
bool nt_actions_is_id(const char *id);

/* Records a step of item id (a full UUID): SUBMIT with the platform's
 * reference (ticket or case number, may be NULL) and a note (may be NULL);
 * DONE with the platform's decision (outcome: applied or rejected for a
 * tag_update, approved or rejected for an appeal). Exactly once: the same
 * step again changes nothing (effect "already"); done with another outcome
 * changes nothing (effect "conflict"). 0 with res filled (whatever the
 * effect); NT_EINVAL with err naming the field and value (an id that is not
 * a UUID, an outcome the kind does not have, a reference another appeal of
 * the platform holds); another error when PostgreSQL failed. */
int nt_actions_record(nt_pg_t *pg, nt_action_step_t step, const char *id, const char *outcome,
                      const char *reference, const char *note, nt_action_result_t *res,
                      nt_err_t *err) NT_MUSTCHECK;

/* Which items to list; NULL fields match anything. */
typedef struct nt_action_filter_s {
    const char *state;    /* open | submitted | pending (open or submitted) | done | all;
                           * NULL: pending */
    const char *kind;     /* tag_update | appeal */
    const char *platform; /* platform id */
    const char *tenant;   /* tenant id */
    const char *number;   /* E.164 number */
    long limit;           /* most items; 0: 100 */
} nt_action_filter_t;

/* Checks a filter's values. 0, or NT_EINVAL with err naming the field and
 * the value. */
int nt_actions_filter_check(const nt_action_filter_t *f, nt_err_t *err) NT_MUSTCHECK;

/* The items that match, oldest first, as a JSON array of objects with the
 * columns of the view action_queue (form as an object, age in seconds) into
 * out (reset first). 0, NT_EINVAL (a bad filter), or a PostgreSQL error. */
int nt_actions_list_json(nt_pg_t *pg, const nt_action_filter_t *f, nt_buf_t *out,
                         nt_err_t *err) NT_MUSTCHECK;

/* One item as such a JSON object into out (reset first). 0, NT_ENOENT when
 * there is no item id, NT_EINVAL for an id that is not a UUID. */
int nt_actions_get_json(nt_pg_t *pg, const char *id, nt_buf_t *out, nt_err_t *err) NT_MUSTCHECK;

/* The full id of the one item whose id starts with prefix (at least 8 hex
 * digits, or a full UUID) into out. 0, NT_ENOENT (none), NT_EINVAL (not hex,
 * too short, or several items match: err says which). */
int nt_actions_resolve(nt_pg_t *pg, const char *prefix, char out[NT_UUID_STRLEN],
                       nt_err_t *err) NT_MUSTCHECK;

#endif
