/*
 * sim.c — the platform model (see sim.h).
 *
 * Determinism: every random choice about a number is nt_rng_derive() of its
 * key hash (seed, scope, number) with a purpose tag, so the same seed and
 * clock give the same state. Numbers that something changed live in the
 * overlay; an overlay record is advanced lazily to the current time, applying
 * in time order the weekly mark draws and the decisions of its open appeals.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "htab.h"
#include "phone.h"
#include "rng.h"

#define DAY_MS (86400000LL)

/* purpose tags for nt_rng_derive */
enum {
    P_CERT = 1,
    P_TRUST,
    P_DECAY,
    P_LABEL,
    P_MARKS,
    P_MAINT,
    P_WEEK,
    P_WEEK_TYPE,
    P_TICKET,
    P_APPROVE,
    P_EXPIRY,
    P_QUAL,
};

/* A scope's model parameters: its platforms[] entry over the global ones. */
typedef struct params_s {
    double initial_share;
    double labels_shown_share;
    int tag_delay_s;
    int appeal_in_review_after_s;
    int appeal_decided_after_s;
    double appeal_approve_rate;
    unsigned surfaces;
} params_t;

typedef struct scope_s {
    char name[64];
    params_t params;
    uint64_t fnv; /* FNV state after (seed, name, '/'): numbers hash from here */
    uint64_t hash;
    uint64_t seq; /* tickets filed without an idempotency key */
    char dialect;
} scope_t;

typedef struct ticket_s {
    uint64_t hash;
    int scope;
    char id[NT_SIM_TICKET_LEN];
    bool appeal;
    bool renewal;
    nt_mark_t type;
    bool tag_rejected;              /* tag: the review's verdict, due at decide_ms */
    char reason[NT_SIM_REASON_MAX]; /* tag: why it was rejected */
    char number[NT_PHONE_MAX + 1];
    int64_t submit_ms, review_ms, decide_ms;
    bool approved;
    struct ticket_s *next_open; /* undecided appeals of one number */
} ticket_t;

typedef struct ovl_s {
    uint64_t hash;
    int scope;
    char number[NT_PHONE_MAX + 1];
    nt_cert_t cert;
    int base_trust;
    double decay;
    int64_t maint_ms;
    int64_t weeks_done;
    int counts[NT_MARK__COUNT];
    char label[NT_SIM_LABEL_MAX];
    char pending[NT_SIM_LABEL_MAX];
    int64_t pending_eff_ms;
    bool has_pending;
    bool pending_rejected; /* the review refuses it: at pending_eff_ms it is dropped */
    bool pending_has_key;
    uint64_t pending_key;
    ticket_t *open;
    int64_t cert_expires_ms; /* 0: no term (pending, revoked, none) */
    bool has_renewal;        /* a renewal takes effect at renew_eff_ms */
    int64_t renew_eff_ms;
    bool qual_verified;
} ovl_t;

/* The initial state of a number: a pure function of its key hash. */
typedef struct init_s {
    nt_cert_t cert;
    int64_t cert_expires_ms;
    bool qual_verified;
    int base_trust;
    double decay;
    int64_t maint_ms;
    int counts[NT_MARK__COUNT];
    char label[NT_SIM_LABEL_MAX];
} init_t;

struct nt_sim_s {
    const nt_simconf_t *conf;
    uint64_t seed;
    int64_t start_ms;
    int64_t base_sim_ms;  /* simulated time at base_mono_ms */
    int64_t base_mono_ms; /* monotonic time of the last rebase */
    double speed;
    scope_t scopes[NT_SIM_MAX_SCOPES];
    int nscopes;
    nt_htab_t scope_tab;
    nt_htab_t overlay;
    nt_htab_t tickets;
    nt_sim_counters_t counters;
};

static const char *const mark_names[NT_MARK__COUNT] = {
    "harassment", "fraud", "agency", "finance", "advertising", "delivery", "taxi", "other",
};

/* mark type weights (percent) for initial and weekly marks */
static const int mark_weights[NT_MARK__COUNT] = {40, 10, 15, 10, 15, 5, 5, 0};

static const char *const cert_names[NT_CERT__COUNT] = {
    "certified", "pending", "expired", "revoked", "none",
};

/* cumulative shares of the cert statuses */
static const double cert_cdf[NT_CERT__COUNT] = {0.88, 0.91, 0.96, 0.97, 1.0};

const char *nt_sim_mark_name(nt_mark_t type)
{
    return (unsigned)type < NT_MARK__COUNT ? mark_names[type] : "other";
}

int nt_sim_mark_parse(const char *name)
{
    for (int i = 0; i < NT_MARK__COUNT; i++) {
        if (strcmp(name, mark_names[i]) == 0)
            return i;
    }
    return -1;
}

const char *nt_sim_cert_name(nt_cert_t cert)
{
    return (unsigned)cert < NT_CERT__COUNT ? cert_names[cert] : "none";
}

/* ---- clock ---- */

int64_t nt_sim_now(const nt_sim_t *sim)
{
    int64_t real = nt_clock_mono_ms() - sim->base_mono_ms;
    return sim->base_sim_ms + (int64_t)((double)real * sim->speed);
}

void nt_sim_advance(nt_sim_t *sim, int64_t ms)
{
    if (ms > 0)
        sim->base_sim_ms += ms;
}

void nt_sim_set_speed(nt_sim_t *sim, double speed)
{
    sim->base_sim_ms = nt_sim_now(sim);
    sim->base_mono_ms = nt_clock_mono_ms();
    sim->speed = speed;
}

/* ---- scopes ---- */

static bool scope_eq(const void *item, const void *key)
{
    return strcmp(((const scope_t *)item)->name, key) == 0;
}

static bool scope_name_ok(const char *name)
{
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return n >= 1 && n <= 63;
}

int nt_sim_scope(nt_sim_t *sim, const char *name)
{
    if (!scope_name_ok(name))
        return NT_EINVAL;
    uint64_t h = nt_rng_hash_str(0, name);
    scope_t *s = nt_htab_get(&sim->scope_tab, h, scope_eq, name);
    if (s != NULL)
        return (int)(s - sim->scopes);
    if (sim->nscopes == NT_SIM_MAX_SCOPES)
        return NT_ETOOBIG;
    s = &sim->scopes[sim->nscopes];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->hash = h;
    const nt_simconf_t *conf = sim->conf;
    const nt_simconf_platform_t *pc = NULL;
    for (size_t i = 0; i < conf->nplatforms && pc == NULL; i++)
        if (strcmp(conf->platforms[i].id, name) == 0)
            pc = &conf->platforms[i];
    s->params = (params_t){
        .initial_share = conf->marks_initial_share,
        .labels_shown_share = 0.8,
        .tag_delay_s = conf->review_tag_delay_s,
        .appeal_in_review_after_s = conf->review_appeal_in_review_after_s,
        .appeal_decided_after_s = conf->review_appeal_decided_after_s,
        .appeal_approve_rate = conf->review_appeal_approve_rate,
        .surfaces = NT_SIM_SURF_ALL,
    };
    uint64_t seed = sim->seed;
    if (pc != NULL) {
        params_t *pp = &s->params;
        if (pc->marks_initial_share >= 0)
            pp->initial_share = pc->marks_initial_share;
        if (pc->labels_shown_share >= 0)
            pp->labels_shown_share = pc->labels_shown_share;
        if (pc->review_tag_delay_s >= 0)
            pp->tag_delay_s = pc->review_tag_delay_s;
        if (pc->review_appeal_in_review_after_s >= 0)
            pp->appeal_in_review_after_s = pc->review_appeal_in_review_after_s;
        if (pc->review_appeal_decided_after_s >= 0)
            pp->appeal_decided_after_s = pc->review_appeal_decided_after_s;
        if (pc->review_appeal_approve_rate >= 0)
            pp->appeal_approve_rate = pc->review_appeal_approve_rate;
        pp->surfaces = pc->surfaces;
        /* a platform's own seed: its numbers draw from their own stream */
        if (pc->has_seed)
            seed = nt_rng_mix(seed ^ nt_rng_mix(pc->seed + 0x9e3779b97f4a7c15ULL));
    }
    s->fnv = nt_rng_fnv(NT_RNG_FNV_BASIS ^ nt_rng_mix(seed), name, strlen(name));
    s->fnv = nt_rng_fnv(s->fnv, "/", 1);
    if (nt_htab_put(&sim->scope_tab, h, s) != NT_OK)
        return NT_ENOMEM;
    return sim->nscopes++;
}

const char *nt_sim_scope_name(const nt_sim_t *sim, int scope)
{
    return sim->scopes[scope].name;
}

char nt_sim_scope_dialect(const nt_sim_t *sim, int scope)
{
    return sim->scopes[scope].dialect;
}

unsigned nt_sim_scope_surfaces(const nt_sim_t *sim, int scope)
{
    return sim->scopes[scope].params.surfaces;
}

void nt_sim_scope_bind(nt_sim_t *sim, int scope, char dialect)
{
    sim->scopes[scope].dialect = dialect;
}

/* ---- the per-number model ---- */

static uint64_t number_hash(const nt_sim_t *sim, int scope, const char *number)
{
    return nt_rng_mix(nt_rng_fnv(sim->scopes[scope].fnv, number, strlen(number)));
}

static nt_mark_t pick_mark(double u)
{
    double acc = 0;
    for (int i = 0; i < NT_MARK__COUNT; i++) {
        acc += mark_weights[i] / 100.0;
        if (u < acc)
            return (nt_mark_t)i;
    }
    return NT_MARK_HARASSMENT;
}

static void initial(const nt_sim_t *sim, const params_t *pp, uint64_t kh, init_t *in)
{
    double u = nt_rng_unit(nt_rng_derive(kh, P_CERT, 0));
    in->cert = NT_CERT_NONE;
    for (int i = 0; i < NT_CERT__COUNT; i++) {
        if (u < cert_cdf[i]) {
            in->cert = (nt_cert_t)i;
            break;
        }
    }
    /* a term: certified ones end within the next term, expired ones ended in
     * the last 180 days; the others have none */
    uint64_t he = nt_rng_derive(kh, P_EXPIRY, 0);
    int term = sim->conf->certs_term_days;
    in->cert_expires_ms =
        in->cert == NT_CERT_CERTIFIED ? sim->start_ms + (int64_t)(1 + he % (uint64_t)term) * DAY_MS
        : in->cert == NT_CERT_EXPIRED ? sim->start_ms - (int64_t)(1 + he % 180) * DAY_MS
                                      : 0;
    in->qual_verified =
        nt_rng_unit(nt_rng_derive(kh, P_QUAL, 0)) < sim->conf->review_qualification_verified_share;
    in->base_trust = 60 + (int)(nt_rng_derive(kh, P_TRUST, 0) % 41);
    in->decay = 0.08 + 0.04 * nt_rng_unit(nt_rng_derive(kh, P_DECAY, 0));
    in->maint_ms = sim->start_ms -
                   (int64_t)(nt_rng_unit(nt_rng_derive(kh, P_MAINT, 0)) * (double)(180 * DAY_MS));
    if (nt_rng_unit(nt_rng_derive(kh, P_LABEL, 0)) < 1.0 - pp->labels_shown_share)
        in->label[0] = '\0';
    else
        snprintf(in->label, sizeof(in->label), "旧标签-%04x",
                 (unsigned)(nt_rng_derive(kh, P_LABEL, 1) & 0xffff));
    memset(in->counts, 0, sizeof(in->counts));
    if (nt_rng_unit(nt_rng_derive(kh, P_MARKS, 0)) < pp->initial_share) {
        int n = 1 + (int)(nt_rng_derive(kh, P_MARKS, 1) & 1);
        for (int i = 0; i < n; i++) {
            nt_mark_t t = pick_mark(nt_rng_unit(nt_rng_derive(kh, P_MARKS, 2 + (uint64_t)i)));
            in->counts[t] += 1 + (int)(nt_rng_derive(kh, P_MARKS, 10 + (uint64_t)i) % 50);
        }
    }
}

static int64_t weeks_at(const nt_sim_t *sim, int64_t now)
{
    return now <= sim->start_ms ? 0 : (now - sim->start_ms) / NT_SIM_WEEK_MS;
}

/* The weekly draw for week w (ending at start + (w+1) weeks). */
static void apply_week(const nt_sim_t *sim, uint64_t kh, int64_t maint_ms, int64_t w,
                       int counts[NT_MARK__COUNT])
{
    const nt_simconf_t *conf = sim->conf;
    int64_t boundary = sim->start_ms + (w + 1) * NT_SIM_WEEK_MS;
    bool unmaintained =
        boundary - maint_ms >= (int64_t)conf->marks_unmaintained_after_days * DAY_MS;
    double rate = unmaintained ? conf->marks_weekly_unmaintained : conf->marks_weekly_maintained;
    uint64_t h = nt_rng_derive(kh, P_WEEK, (uint64_t)w);
    if (nt_rng_unit(h) < rate)
        counts[pick_mark(nt_rng_unit(nt_rng_derive(h, P_WEEK_TYPE, 0)))]++;
}

static int trust_at(int base, double decay, int64_t maint_ms, const int counts[NT_MARK__COUNT],
                    int64_t now)
{
    int64_t elapsed = now > maint_ms ? now - maint_ms : 0;
    double t = (double)base * pow(1.0 - decay, (double)elapsed / (double)NT_SIM_QUARTER_MS);
    int trust = (int)floor(t);
    if (counts[NT_MARK_HARASSMENT] > 0)
        trust -= 5;
    if (counts[NT_MARK_FRAUD] > 0)
        trust -= 5;
    return trust < 0 ? 0 : trust > 100 ? 100 : trust;
}

static void fill_marks(nt_sim_state_t *st, const int counts[NT_MARK__COUNT])
{
    st->nmarks = 0;
    for (int i = 0; i < NT_MARK__COUNT; i++) {
        if (counts[i] <= 0)
            continue;
        /* insertion: count descending, taxonomy order among equals */
        size_t j = st->nmarks++;
        while (j > 0 && st->marks[j - 1].count < counts[i]) {
            st->marks[j] = st->marks[j - 1];
            j--;
        }
        st->marks[j].type = (nt_mark_t)i;
        st->marks[j].count = counts[i];
    }
}

static nt_appeal_t ticket_status(const ticket_t *t, int64_t now)
{
    if (now < t->review_ms)
        return NT_APPEAL_SUBMITTED;
    if (now < t->decide_ms)
        return NT_APPEAL_IN_REVIEW;
    return t->approved ? NT_APPEAL_APPROVED : NT_APPEAL_REJECTED;
}

/* Applies, in time order, every weekly draw and appeal decision up to now. */
static void ovl_advance(const nt_sim_t *sim, ovl_t *ovl, int64_t now)
{
    int64_t weeks = weeks_at(sim, now);
    for (;;) {
        ticket_t **first = NULL;
        for (ticket_t **pp = &ovl->open; *pp != NULL; pp = &(*pp)->next_open) {
            if ((*pp)->decide_ms <= now &&
                (first == NULL || (*pp)->decide_ms < (*first)->decide_ms))
                first = pp;
        }
        int64_t tw = ovl->weeks_done < weeks
                         ? sim->start_ms + (ovl->weeks_done + 1) * NT_SIM_WEEK_MS
                         : INT64_MAX;
        if (first != NULL && (*first)->decide_ms <= tw) {
            ticket_t *t = *first;
            *first = t->next_open;
            t->next_open = NULL;
            if (t->approved)
                ovl->counts[t->type] = 0;
            continue;
        }
        if (tw == INT64_MAX)
            break;
        apply_week(sim, ovl->hash, ovl->maint_ms, ovl->weeks_done, ovl->counts);
        ovl->weeks_done++;
    }
    if (ovl->has_pending && ovl->pending_eff_ms <= now) {
        if (!ovl->pending_rejected)
            memcpy(ovl->label, ovl->pending, sizeof(ovl->label));
        ovl->has_pending = false;
    }
    if (ovl->has_renewal && ovl->renew_eff_ms <= now) {
        int64_t from =
            ovl->cert_expires_ms > ovl->renew_eff_ms ? ovl->cert_expires_ms : ovl->renew_eff_ms;
        ovl->cert_expires_ms = from + (int64_t)sim->conf->certs_term_days * DAY_MS;
        ovl->cert = NT_CERT_CERTIFIED;
        ovl->has_renewal = false;
    }
}

/* A certification with a term is certified until it ends, expired after. */
static nt_cert_t cert_at(nt_cert_t base, int64_t expires_ms, int64_t now)
{
    if ((base == NT_CERT_CERTIFIED || base == NT_CERT_EXPIRED) && expires_ms > 0)
        return now < expires_ms ? NT_CERT_CERTIFIED : NT_CERT_EXPIRED;
    return base;
}

typedef struct num_key_s {
    int scope;
    const char *number;
} num_key_t;

static bool ovl_eq(const void *item, const void *key)
{
    const ovl_t *o = item;
    const num_key_t *k = key;
    return o->scope == k->scope && strcmp(o->number, k->number) == 0;
}

/* The overlay record of (scope, number), advanced to now; created when
 * create is set. NULL when absent, or with *rc set on failure. */
static ovl_t *ovl_get(nt_sim_t *sim, int scope, const char *number, bool create, int64_t now,
                      int *rc)
{
    num_key_t key = {scope, number};
    uint64_t kh = number_hash(sim, scope, number);
    ovl_t *ovl = nt_htab_get(&sim->overlay, kh, ovl_eq, &key);
    *rc = NT_OK;
    if (ovl == NULL && create) {
        init_t in;
        if (sim->overlay.len >= (size_t)sim->conf->max_records) {
            *rc = NT_ETOOBIG;
            return NULL;
        }
        ovl = calloc(1, sizeof(*ovl));
        if (ovl == NULL) {
            *rc = NT_ENOMEM;
            return NULL;
        }
        initial(sim, &sim->scopes[scope].params, kh, &in);
        ovl->hash = kh;
        ovl->scope = scope;
        snprintf(ovl->number, sizeof(ovl->number), "%s", number);
        ovl->cert = in.cert;
        ovl->cert_expires_ms = in.cert_expires_ms;
        ovl->qual_verified = in.qual_verified;
        ovl->base_trust = in.base_trust;
        ovl->decay = in.decay;
        ovl->maint_ms = in.maint_ms;
        memcpy(ovl->counts, in.counts, sizeof(ovl->counts));
        memcpy(ovl->label, in.label, sizeof(ovl->label));
        if (nt_htab_put(&sim->overlay, kh, ovl) != NT_OK) {
            free(ovl);
            *rc = NT_ENOMEM;
            return NULL;
        }
    }
    if (ovl != NULL)
        ovl_advance(sim, ovl, now);
    return ovl;
}

int nt_sim_state(nt_sim_t *sim, int scope, const char *number, nt_sim_state_t *st)
{
    int64_t now = nt_sim_now(sim);
    int rc;
    ovl_t *ovl = ovl_get(sim, scope, number, false, now, &rc);
    if (ovl != NULL) {
        st->cert = cert_at(ovl->cert, ovl->cert_expires_ms, now);
        st->cert_expires_ms = ovl->cert_expires_ms;
        st->qualification_verified = ovl->qual_verified;
        memcpy(st->label, ovl->label, sizeof(st->label));
        st->trust = trust_at(ovl->base_trust, ovl->decay, ovl->maint_ms, ovl->counts, now);
        fill_marks(st, ovl->counts);
        return NT_OK;
    }
    init_t in;
    uint64_t kh = number_hash(sim, scope, number);
    initial(sim, &sim->scopes[scope].params, kh, &in);
    int64_t weeks = weeks_at(sim, now);
    for (int64_t w = 0; w < weeks; w++)
        apply_week(sim, kh, in.maint_ms, w, in.counts);
    st->cert = cert_at(in.cert, in.cert_expires_ms, now);
    st->cert_expires_ms = in.cert_expires_ms;
    st->qualification_verified = in.qual_verified;
    memcpy(st->label, in.label, sizeof(st->label));
    st->trust = trust_at(in.base_trust, in.decay, in.maint_ms, in.counts, now);
    fill_marks(st, in.counts);
    return NT_OK;
}

/* ---- tickets ---- */

typedef struct ticket_key_s {
    int scope;
    const char *id;
} ticket_key_t;

static bool ticket_eq(const void *item, const void *key)
{
    const ticket_t *t = item;
    const ticket_key_t *k = key;
    return t->scope == k->scope && strcmp(t->id, k->id) == 0;
}

static uint64_t ticket_hash(const nt_sim_t *sim, int scope, const char *id)
{
    return nt_rng_mix(nt_rng_fnv(sim->scopes[scope].fnv ^ 0x5bd1e995ULL, id, strlen(id)));
}

/* A new ticket with an id unique in its scope: derived from (seed, scope,
 * key) when a key is given, else from the scope's sequence. */
static int ticket_new(nt_sim_t *sim, int scope, const char *key, ticket_t **out)
{
    scope_t *s = &sim->scopes[scope];
    if (sim->tickets.len >= (size_t)sim->conf->max_records)
        return NT_ETOOBIG;
    ticket_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NT_ENOMEM;
    uint64_t base = key != NULL ? nt_rng_mix(nt_rng_fnv(s->fnv ^ 0x4b4559ULL, key, strlen(key)))
                                : nt_rng_derive(s->fnv, P_TICKET, s->seq++);
    for (uint64_t attempt = 0;; attempt++) {
        uint64_t h = attempt == 0 ? base : nt_rng_derive(base, P_TICKET, attempt);
        snprintf(t->id, sizeof(t->id), "%016llx", (unsigned long long)h);
        ticket_key_t tk = {scope, t->id};
        t->hash = ticket_hash(sim, scope, t->id);
        if (nt_htab_get(&sim->tickets, t->hash, ticket_eq, &tk) == NULL)
            break;
    }
    t->scope = scope;
    if (nt_htab_put(&sim->tickets, t->hash, t) != NT_OK) {
        free(t);
        return NT_ENOMEM;
    }
    *out = t;
    return NT_OK;
}

/* The first word of the comma-separated list that label contains, copied
 * into word; false when none. */
static bool contains_word(const char *list, const char *label, char *word, size_t wordsz)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n > 0 && n < wordsz) {
            memcpy(word, p, n);
            word[n] = '\0';
            if (strstr(label, word) != NULL)
                return true;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

/* The review's verdict on a label: rejected (reason set) for a forbidden
 * word, or for a qualification the platform has no documents for. */
static bool review_rejects(const nt_sim_t *sim, const ovl_t *ovl, const char *label, char *reason)
{
    char word[64];
    if (contains_word(sim->conf->review_forbidden_words, label, word, sizeof(word))) {
        snprintf(reason, NT_SIM_REASON_MAX, "label contains a forbidden word: %s", word);
        return true;
    }
    if (!ovl->qual_verified &&
        contains_word(sim->conf->review_qualification_words, label, word, sizeof(word))) {
        snprintf(reason, NT_SIM_REASON_MAX, "qualification not verified: %s", word);
        return true;
    }
    reason[0] = '\0';
    return false;
}

int nt_sim_tag_update(nt_sim_t *sim, int scope, const char *number, const char *label,
                      const char *key, char ticket[NT_SIM_TICKET_LEN])
{
    int64_t now = nt_sim_now(sim);
    int rc;
    ticket_t *t = NULL;
    ovl_t *ovl = ovl_get(sim, scope, number, true, now, &rc);
    if (ovl == NULL)
        return rc;
    rc = ticket_new(sim, scope, key, &t);
    if (rc != NT_OK)
        return rc;
    t->appeal = false;
    snprintf(t->number, sizeof(t->number), "%s", number);
    t->submit_ms = now;
    uint64_t kh = key != NULL ? nt_rng_hash_str(0, key) : 0;
    if (ovl->has_pending && strcmp(ovl->pending, label) == 0 &&
        !(key != NULL && ovl->pending_has_key && ovl->pending_key == kh))
        sim->counters.duplicate_side_effects++;
    t->tag_rejected = review_rejects(sim, ovl, label, t->reason);
    if (t->tag_rejected)
        sim->counters.tags_rejected++;
    snprintf(ovl->pending, sizeof(ovl->pending), "%s", label);
    ovl->pending_rejected = t->tag_rejected;
    ovl->pending_eff_ms = now + (int64_t)sim->scopes[scope].params.tag_delay_s * 1000;
    t->review_ms = now;
    t->decide_ms = ovl->pending_eff_ms; /* shown (or refused) from then on */
    t->approved = !t->tag_rejected;
    ovl->has_pending = true;
    ovl->pending_has_key = key != NULL;
    ovl->pending_key = kh;
    ovl->maint_ms = now;
    ovl_advance(sim, ovl, now); /* a zero delay takes effect at once */
    sim->counters.tag_updates++;
    snprintf(ticket, NT_SIM_TICKET_LEN, "%s", t->id);
    return NT_OK;
}

int nt_sim_appeal_submit(nt_sim_t *sim, int scope, const char *number, nt_mark_t type,
                         const char *key, char ticket[NT_SIM_TICKET_LEN])
{
    int64_t now = nt_sim_now(sim);
    int rc;
    ticket_t *t = NULL;
    nt_sim_state_t st;

    /* a number without the mark needs no overlay record */
    if (nt_sim_state(sim, scope, number, &st) != NT_OK)
        return NT_ERR;
    bool present = false;
    for (size_t i = 0; i < st.nmarks; i++)
        present = present || st.marks[i].type == type;
    if (!present)
        return NT_ENOENT;
    ovl_t *ovl = ovl_get(sim, scope, number, true, now, &rc);
    if (ovl == NULL)
        return rc;
    rc = ticket_new(sim, scope, key, &t);
    if (rc != NT_OK)
        return rc;
    for (const ticket_t *o = ovl->open; o != NULL; o = o->next_open) {
        if (o->type == type) {
            sim->counters.duplicate_side_effects++;
            break;
        }
    }
    t->appeal = true;
    t->type = type;
    snprintf(t->number, sizeof(t->number), "%s", number);
    t->submit_ms = now;
    const params_t *pp = &sim->scopes[scope].params;
    t->review_ms = now + (int64_t)pp->appeal_in_review_after_s * 1000;
    t->decide_ms = now + (int64_t)pp->appeal_decided_after_s * 1000;
    t->approved =
        nt_rng_unit(nt_rng_derive(t->hash ^ sim->seed, P_APPROVE, 0)) < pp->appeal_approve_rate;
    t->next_open = ovl->open;
    ovl->open = t;
    ovl->maint_ms = now;
    ovl_advance(sim, ovl, now);
    sim->counters.appeals++;
    snprintf(ticket, NT_SIM_TICKET_LEN, "%s", t->id);
    return NT_OK;
}

int nt_sim_tag_status(nt_sim_t *sim, int scope, const char *ticket, nt_sim_tag_t *state,
                      char *reason)
{
    ticket_key_t tk = {scope, ticket};
    const ticket_t *t = nt_htab_get(&sim->tickets, ticket_hash(sim, scope, ticket), ticket_eq, &tk);
    if (t == NULL || t->appeal || t->renewal)
        return NT_ENOENT;
    reason[0] = '\0';
    if (nt_sim_now(sim) < t->decide_ms) {
        *state = NT_SIM_TAG_PENDING;
    } else if (t->tag_rejected) {
        *state = NT_SIM_TAG_REJECTED;
        snprintf(reason, NT_SIM_REASON_MAX, "%s", t->reason);
    } else {
        *state = NT_SIM_TAG_APPLIED;
    }
    return NT_OK;
}

int nt_sim_renew(nt_sim_t *sim, int scope, const char *number, const char *key,
                 char ticket[NT_SIM_TICKET_LEN])
{
    int64_t now = nt_sim_now(sim);
    int rc;
    ticket_t *t = NULL;
    ovl_t *ovl = ovl_get(sim, scope, number, true, now, &rc);
    if (ovl == NULL)
        return rc;
    nt_cert_t cert = cert_at(ovl->cert, ovl->cert_expires_ms, now);
    if (cert != NT_CERT_CERTIFIED && cert != NT_CERT_EXPIRED)
        return NT_EINVAL;
    if ((rc = ticket_new(sim, scope, key, &t)) != NT_OK)
        return rc;
    t->renewal = true;
    snprintf(t->number, sizeof(t->number), "%s", number);
    t->submit_ms = now;
    t->decide_ms = now + (int64_t)sim->conf->review_renewal_delay_s * 1000;
    if (!ovl->has_renewal) { /* a second request before the first took effect changes nothing */
        ovl->has_renewal = true;
        ovl->renew_eff_ms = t->decide_ms;
    }
    ovl_advance(sim, ovl, now); /* a zero delay takes effect at once */
    sim->counters.renewals++;
    snprintf(ticket, NT_SIM_TICKET_LEN, "%s", t->id);
    return NT_OK;
}

int nt_sim_qualification_set(nt_sim_t *sim, int scope, const char *number, bool verified)
{
    int rc;
    ovl_t *ovl = ovl_get(sim, scope, number, true, nt_sim_now(sim), &rc);
    if (ovl == NULL)
        return rc;
    ovl->qual_verified = verified;
    return NT_OK;
}

int nt_sim_appeal_status(nt_sim_t *sim, int scope, const char *ticket, nt_appeal_t *status)
{
    ticket_key_t tk = {scope, ticket};
    const ticket_t *t = nt_htab_get(&sim->tickets, ticket_hash(sim, scope, ticket), ticket_eq, &tk);
    if (t == NULL || !t->appeal)
        return NT_ENOENT;
    *status = ticket_status(t, nt_sim_now(sim));
    return NT_OK;
}

int nt_sim_ticket_info(nt_sim_t *sim, int scope, const char *ticket, nt_sim_ticket_info_t *info)
{
    ticket_key_t tk = {scope, ticket};
    const ticket_t *t = nt_htab_get(&sim->tickets, ticket_hash(sim, scope, ticket), ticket_eq, &tk);
    if (t == NULL)
        return NT_ENOENT;
    info->appeal = t->appeal;
    info->type = t->type;
    snprintf(info->number, sizeof(info->number), "%s", t->number);
    info->submit_ms = t->submit_ms;
    info->review_ms = t->review_ms;
    info->decide_ms = t->decide_ms;
    info->approved = t->approved;
    info->status = t->appeal ? ticket_status(t, nt_sim_now(sim)) : NT_APPEAL_SUBMITTED;
    return NT_OK;
}

int nt_sim_mark_inject(nt_sim_t *sim, int scope, const char *number, nt_mark_t type, int count)
{
    int rc;
    if ((unsigned)type >= NT_MARK__COUNT || count < 1)
        return NT_EINVAL;
    ovl_t *ovl = ovl_get(sim, scope, number, true, nt_sim_now(sim), &rc);
    if (ovl == NULL)
        return rc;
    ovl->counts[type] = count;
    return NT_OK;
}

int nt_sim_mark_clear(nt_sim_t *sim, int scope, const char *number, int type)
{
    int rc;
    if (type >= NT_MARK__COUNT || type < -1)
        return NT_EINVAL;
    ovl_t *ovl = ovl_get(sim, scope, number, true, nt_sim_now(sim), &rc);
    if (ovl == NULL)
        return rc;
    for (int i = 0; i < NT_MARK__COUNT; i++) {
        if (type == -1 || type == i)
            ovl->counts[i] = 0;
    }
    return NT_OK;
}

nt_sim_counters_t *nt_sim_counters(nt_sim_t *sim)
{
    return &sim->counters;
}

/* ---- lifetime ---- */

nt_sim_t *nt_sim_new(const nt_simconf_t *conf, nt_err_t *err)
{
    nt_sim_t *sim = calloc(1, sizeof(*sim));
    if (sim == NULL) {
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
        return NULL;
    }
    sim->conf = conf;
    sim->seed = conf->seed;
    sim->start_ms = conf->clock_start_ms;
    sim->base_sim_ms = conf->clock_start_ms;
    sim->base_mono_ms = nt_clock_mono_ms();
    sim->speed = conf->clock_speed;
    nt_htab_init(&sim->scope_tab);
    nt_htab_init(&sim->overlay);
    nt_htab_init(&sim->tickets);
    for (size_t i = 0; i < conf->nplatforms; i++) {
        int scope = nt_sim_scope(sim, conf->platforms[i].id);
        if (scope < 0) {
            nt_err_set(err, NT_EINVAL, false, "platforms[%zu].id \"%s\" is not a valid scope name",
                       i, conf->platforms[i].id);
            nt_sim_free(sim);
            return NULL;
        }
        nt_sim_scope_bind(sim, scope, conf->platforms[i].dialect);
    }
    return sim;
}

void nt_sim_free(nt_sim_t *sim)
{
    if (sim == NULL)
        return;
    void *item;
    size_t it = 0;
    while ((item = nt_htab_next(&sim->overlay, &it)) != NULL)
        free(item);
    it = 0;
    while ((item = nt_htab_next(&sim->tickets, &it)) != NULL)
        free(item);
    nt_htab_free(&sim->overlay);
    nt_htab_free(&sim->tickets);
    nt_htab_free(&sim->scope_tab);
    free(sim);
}
