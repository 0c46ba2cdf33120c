/*
 * sim.h — the simulator's platform model: what each platform knows about
 * each number, and how that changes with simulated time.
 *
 * The state of (scope, number) starts as a pure function of (seed, scope,
 * number) and evolves with the simulated clock (weekly marks, trust decay,
 * reviews). Only numbers that something changed (a tag update, an appeal, an
 * injected or cleared mark) get a record in the overlay table; all others
 * are recomputed on each read. The model is single-threaded and knows nothing
 * about HTTP: dialects render its state, the server counts and limits.
 */
#ifndef NT_SIM_H
#define NT_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "simconf.h"

#define NT_SIM_LABEL_MAX   132 /* 32 characters of up to 4 UTF-8 bytes, and the NUL */
#define NT_SIM_LABEL_CHARS 32
#define NT_SIM_TICKET_LEN  24
#define NT_SIM_REASON_MAX  160
#define NT_SIM_MAX_SCOPES  1024
#define NT_SIM_WEEK_MS     (7LL * 86400000LL)
#define NT_SIM_QUARTER_MS  (7889400000LL) /* 365.25 / 4 days */

typedef struct nt_sim_s nt_sim_t;

/* The mark taxonomy, in its documented order (also the tie-break order). */
typedef enum {
    NT_MARK_HARASSMENT,
    NT_MARK_FRAUD,
    NT_MARK_AGENCY,
    NT_MARK_FINANCE,
    NT_MARK_ADVERTISING,
    NT_MARK_DELIVERY,
    NT_MARK_TAXI,
    NT_MARK_OTHER,
    NT_MARK__COUNT
} nt_mark_t;

typedef enum {
    NT_CERT_CERTIFIED,
    NT_CERT_PENDING,
    NT_CERT_EXPIRED,
    NT_CERT_REVOKED,
    NT_CERT_NONE,
    NT_CERT__COUNT
} nt_cert_t;

/* The review state of a tag update ticket. */
typedef enum {
    NT_SIM_TAG_PENDING,
    NT_SIM_TAG_APPLIED,
    NT_SIM_TAG_REJECTED,
    NT_SIM_TAG__COUNT
} nt_sim_tag_t;

typedef enum {
    NT_APPEAL_SUBMITTED,
    NT_APPEAL_IN_REVIEW,
    NT_APPEAL_APPROVED,
    NT_APPEAL_REJECTED,
    NT_APPEAL__COUNT
} nt_appeal_t;

/* Platform endpoints, for counters and routing. */
typedef enum {
    NT_SIM_EP_CHECK,
    NT_SIM_EP_TAG,
    NT_SIM_EP_APPEAL,
    NT_SIM_EP_APPEAL_STATUS,
    NT_SIM_EP_TAG_STATUS,
    NT_SIM_EP_RENEWAL,
    NT_SIM_EP__COUNT
} nt_sim_ep_t;

typedef struct nt_sim_mark_s {
    nt_mark_t type;
    int count;
} nt_sim_mark_t;

/* The normalised state of one (scope, number) at one simulated time. */
typedef struct nt_sim_state_s {
    nt_cert_t cert;
    int64_t cert_expires_ms;      /* certified or expired: when the term ends; 0 otherwise */
    bool qualification_verified;  /* the platform has the number's qualification documents */
    int trust;                    /* 0-100 */
    char label[NT_SIM_LABEL_MAX]; /* the same on android, ios and search; "" = none */
    nt_sim_mark_t marks[NT_MARK__COUNT];
    size_t nmarks; /* sorted by count descending, then taxonomy order */
} nt_sim_state_t;

/* What /admin/counters reports (besides idempotency, kept by idem.h). */
typedef struct nt_sim_counters_s {
    uint64_t requests;
    uint64_t by_endpoint[4][NT_SIM_EP__COUNT]; /* [dialect a/b/c/d][endpoint] */
    uint64_t admin;
    uint64_t by_status[600];
    uint64_t rate_limited;
    uint64_t auth_failures;
    uint64_t faults_5xx;
    uint64_t faults_timeout;
    uint64_t faults_malformed;
    uint64_t batch_numbers;
    uint64_t tag_updates;
    uint64_t tags_rejected; /* tag updates whose review refused them */
    uint64_t appeals;
    uint64_t renewals;
    uint64_t duplicate_side_effects;
    uint64_t early_retries;
} nt_sim_counters_t;

/* @returns a new model; free with nt_sim_free(). conf must outlive it (the
 * model reads seed, clock, marks.*, review.* and max_records from it; a later
 * change of review.* applies to tickets filed afterwards). NULL on failure. */
nt_sim_t *nt_sim_new(const nt_simconf_t *conf, nt_err_t *err);

/* Frees the model and every record; sim may be NULL. */
void nt_sim_free(nt_sim_t *sim);

/* Simulated time, ms since the Unix epoch. */
int64_t nt_sim_now(const nt_sim_t *sim);

/* Moves simulated time forward by ms (>= 0). */
void nt_sim_advance(nt_sim_t *sim, int64_t ms);

/* Changes the clock speed (simulated seconds per real second) from now on. */
void nt_sim_set_speed(nt_sim_t *sim, double speed);

/* The id of scope name (registered on first use). Returns the id, NT_EINVAL
 * for a bad name (1-63 of [A-Za-z0-9_.-]) or NT_ETOOBIG past
 * NT_SIM_MAX_SCOPES. */
int nt_sim_scope(nt_sim_t *sim, const char *name);
const char *nt_sim_scope_name(const nt_sim_t *sim, int scope);

/* The dialect ('a' to 'd') a scope is bound to, 0 while unbound. */
char nt_sim_scope_dialect(const nt_sim_t *sim, int scope);
void nt_sim_scope_bind(nt_sim_t *sim, int scope, char dialect);

/* The surfaces (NT_SIM_SURF_* bits) the scope shows labels on. */
unsigned nt_sim_scope_surfaces(const nt_sim_t *sim, int scope);

/* The state of (scope, number) now. number must be valid E.164. Returns 0. */
int nt_sim_state(nt_sim_t *sim, int scope, const char *number, nt_sim_state_t *st);

/* Accepts a tag update: label (validated by the caller) is shown on every
 * surface review.tag_delay_s later; the number counts as maintained from
 * now. key (the idempotency key, may be NULL) makes the ticket id a function
 * of (seed, scope, key). Writes the ticket id. Returns 0, NT_ETOOBIG when
 * max_records is reached, NT_ENOMEM. */
int nt_sim_tag_update(nt_sim_t *sim, int scope, const char *number, const char *label,
                      const char *key, char ticket[NT_SIM_TICKET_LEN]) NT_MUSTCHECK;

/* The review state of tag ticket now; reason (NT_SIM_REASON_MAX bytes) gets
 * the rejection's reason, "" otherwise. Returns 0 or NT_ENOENT. */
int nt_sim_tag_status(nt_sim_t *sim, int scope, const char *ticket, nt_sim_tag_t *state,
                      char *reason) NT_MUSTCHECK;

/* Asks for the renewal of number's certification: review.renewal_delay_s
 * later its term is extended by certs.term_days (from its expiry, or from
 * then if it has expired) and it is certified. Returns 0 (ticket written),
 * NT_EINVAL when the certification is not certified or expired (pending,
 * revoked, none: nothing to renew), NT_ETOOBIG, NT_ENOMEM. */
int nt_sim_renew(nt_sim_t *sim, int scope, const char *number, const char *key,
                 char ticket[NT_SIM_TICKET_LEN]) NT_MUSTCHECK;

/* Sets whether the platform holds number's qualification documents (what a
 * label naming a qualification needs to pass review). */
int nt_sim_qualification_set(nt_sim_t *sim, int scope, const char *number,
                             bool verified) NT_MUSTCHECK;

/* Files an appeal against mark type on number. Returns 0 (ticket written),
 * NT_ENOENT when the number has no such mark, NT_ETOOBIG, NT_ENOMEM. */
int nt_sim_appeal_submit(nt_sim_t *sim, int scope, const char *number, nt_mark_t type,
                         const char *key, char ticket[NT_SIM_TICKET_LEN]) NT_MUSTCHECK;

/* The status of an appeal ticket now. Returns 0 or NT_ENOENT. */
int nt_sim_appeal_status(nt_sim_t *sim, int scope, const char *ticket,
                         nt_appeal_t *status) NT_MUSTCHECK;

/* What the model knows about a ticket: a tag update's label shows from
 * decide_ms (review_ms = submit_ms, approved always); an appeal is in review
 * from review_ms and decided (approved or not) at decide_ms. */
typedef struct nt_sim_ticket_info_s {
    bool appeal;
    nt_mark_t type;
    char number[24];
    int64_t submit_ms, review_ms, decide_ms;
    bool approved;
    nt_appeal_t status; /* appeals: the status now */
} nt_sim_ticket_info_t;

/* Returns 0 and fills info, or NT_ENOENT for an unknown ticket. */
int nt_sim_ticket_info(nt_sim_t *sim, int scope, const char *ticket,
                       nt_sim_ticket_info_t *info) NT_MUSTCHECK;

/* Sets the count of mark type on number (count >= 1). */
int nt_sim_mark_inject(nt_sim_t *sim, int scope, const char *number, nt_mark_t type,
                       int count) NT_MUSTCHECK;

/* Clears one mark type, or all with type -1. */
int nt_sim_mark_clear(nt_sim_t *sim, int scope, const char *number, int type) NT_MUSTCHECK;

/* The counters (the server increments most of them). */
nt_sim_counters_t *nt_sim_counters(nt_sim_t *sim);

/* Taxonomy names ("harassment", ...) and cert status names ("certified"). */
const char *nt_sim_mark_name(nt_mark_t type);
int nt_sim_mark_parse(const char *name); /* type, or -1 */
const char *nt_sim_cert_name(nt_cert_t cert);

#endif
