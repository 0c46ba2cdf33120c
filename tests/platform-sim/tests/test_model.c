/*
 * test_model.c — the platform model (sim.h) on a stopped clock (speed 0,
 * moved only by nt_sim_advance): determinism per seed, the initial
 * distributions, weekly marks for unmaintained and maintained numbers, trust
 * decay per quarter, tag review delay and verdicts (forbidden words,
 * qualifications), certification terms and renewals, appeal progression,
 * injected marks and ticket ids.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "sim.h"
#include "simconf.h"

#define DAY_S 86400LL

static void number_at(int i, char out[32])
{
    snprintf(out, 32, "+86138%08d", i);
}

static nt_simconf_t base_conf(uint64_t seed)
{
    nt_simconf_t conf;
    nt_simconf_defaults(&conf);
    conf.seed = seed;
    conf.clock_speed = 0;
    return conf;
}

static bool same_state(const nt_sim_state_t *a, const nt_sim_state_t *b)
{
    if (a->cert != b->cert || a->trust != b->trust || strcmp(a->label, b->label) != 0 ||
        a->nmarks != b->nmarks)
        return false;
    for (size_t i = 0; i < a->nmarks; i++) {
        if (a->marks[i].type != b->marks[i].type || a->marks[i].count != b->marks[i].count)
            return false;
    }
    return true;
}

static void test_determinism(void)
{
    nt_simconf_t c1 = base_conf(42), c2 = base_conf(42), c3 = base_conf(43);
    nt_sim_t *s1 = nt_sim_new(&c1, NULL), *s2 = nt_sim_new(&c2, NULL), *s3 = nt_sim_new(&c3, NULL);
    int a1 = nt_sim_scope(s1, "baidu"), a2 = nt_sim_scope(s2, "baidu"),
        a3 = nt_sim_scope(s3, "baidu");
    int b1 = nt_sim_scope(s1, "tencent");
    /* at the start, then 30 weeks later: the same seed and clock give the
     * same state, another seed or scope a different one */
    for (int round = 0; round < 2; round++) {
        int same = 0, diff_seed = 0, diff_scope = 0;
        for (int i = 0; i < 500; i++) {
            char n[32];
            nt_sim_state_t x, y, z, w;
            number_at(i, n);
            CHECK_INT(nt_sim_state(s1, a1, n, &x), 0);
            CHECK_INT(nt_sim_state(s2, a2, n, &y), 0);
            CHECK_INT(nt_sim_state(s3, a3, n, &z), 0);
            CHECK_INT(nt_sim_state(s1, b1, n, &w), 0);
            same += same_state(&x, &y);
            diff_seed += !same_state(&x, &z);
            diff_scope += !same_state(&x, &w);
        }
        CHECK_INT(same, 500);
        CHECK(diff_seed > 400);
        CHECK(diff_scope > 400);
        nt_sim_advance(s1, 30 * 7 * DAY_S * 1000);
        nt_sim_advance(s2, 30 * 7 * DAY_S * 1000);
        nt_sim_advance(s3, 30 * 7 * DAY_S * 1000);
    }
    nt_sim_free(s1);
    nt_sim_free(s2);
    nt_sim_free(s3);
}

static void test_initial_distribution(void)
{
    nt_simconf_t conf = base_conf(7);
    nt_sim_t *sim = nt_sim_new(&conf, NULL);
    int scope = nt_sim_scope(sim, "hiya");
    int n = 20000, certified = 0, marked = 0, labelled = 0, trust_ok = 0;
    for (int i = 0; i < n; i++) {
        char num[32];
        nt_sim_state_t st;
        number_at(i, num);
        CHECK_INT(nt_sim_state(sim, scope, num, &st), 0);
        certified += st.cert == NT_CERT_CERTIFIED;
        marked += st.nmarks > 0;
        labelled += st.label[0] != '\0';
        trust_ok += st.trust >= 0 && st.trust <= 100;
        for (size_t k = 1; k < st.nmarks; k++) /* sorted by count descending */
            CHECK(st.marks[k - 1].count >= st.marks[k].count);
    }
    double share_cert = (double)certified / n, share_marked = (double)marked / n;
    double share_label = (double)labelled / n;
    printf("certified %.3f marked %.3f labelled %.3f\n", share_cert, share_marked, share_label);
    CHECK(share_cert > 0.86 && share_cert < 0.90);
    CHECK(share_marked > 0.13 && share_marked < 0.17);
    CHECK(share_label > 0.78 && share_label < 0.82);
    CHECK_INT(trust_ok, n);
    nt_sim_free(sim);
}

/* Mean new marks per number-week over a year. */
static double weekly_rate(int unmaintained_after_days)
{
    nt_simconf_t conf = base_conf(11);
    conf.marks_initial_share = 0;
    conf.marks_unmaintained_after_days = unmaintained_after_days;
    nt_sim_t *sim = nt_sim_new(&conf, NULL);
    int scope = nt_sim_scope(sim, "qihoo360");
    int n = 4000;
    long total = 0;
    nt_sim_advance(sim, 52 * 7 * DAY_S * 1000);
    for (int i = 0; i < n; i++) {
        char num[32];
        nt_sim_state_t st;
        number_at(i, num);
        CHECK_INT(nt_sim_state(sim, scope, num, &st), 0);
        for (size_t k = 0; k < st.nmarks; k++)
            total += st.marks[k].count;
    }
    nt_sim_free(sim);
    return (double)total / (n * 52.0);
}

static void test_marks_over_time(void)
{
    /* 0 days: every number is unmaintained; 100000 days: all maintained */
    double unmaintained = weekly_rate(0), maintained = weekly_rate(100000);
    printf("weekly mark rate: unmaintained %.4f maintained %.4f\n", unmaintained, maintained);
    CHECK(unmaintained > 0.045 && unmaintained < 0.055);
    CHECK(maintained > 0.0035 && maintained < 0.0065);
}

static void test_trust_decay(void)
{
    nt_simconf_t conf = base_conf(5);
    conf.marks_initial_share = 0;
    conf.marks_weekly_unmaintained = 0;
    conf.marks_weekly_maintained = 0;
    nt_sim_t *sim = nt_sim_new(&conf, NULL);
    int scope = nt_sim_scope(sim, "baidu");
    int n = 200, in_range = 0;
    double lo = 1, hi = 0;
    int t0[200];
    char ticket[NT_SIM_TICKET_LEN];
    /* maintenance resets the decay clock: the score is the base score */
    for (int i = 0; i < n; i++) {
        char num[32];
        nt_sim_state_t st;
        number_at(i, num);
        CHECK_INT(nt_sim_tag_update(sim, scope, num, "Acme", NULL, ticket), 0);
        CHECK_INT(nt_sim_state(sim, scope, num, &st), 0);
        t0[i] = st.trust;
        CHECK(st.trust >= 60 && st.trust <= 100);
    }
    for (int q = 1; q <= 2; q++) {
        nt_sim_advance(sim, NT_SIM_QUARTER_MS);
        in_range = 0;
        for (int i = 0; i < n; i++) {
            char num[32];
            nt_sim_state_t st;
            number_at(i, num);
            CHECK_INT(nt_sim_state(sim, scope, num, &st), 0);
            /* per quarter: a fall of 8-12 %, compounding; floor() costs < 1 point */
            double ratio = (double)st.trust / t0[i];
            double want_lo = pow(0.88, q) - 1.0 / t0[i], want_hi = pow(0.92, q) + 1e-9;
            in_range += ratio >= want_lo && ratio <= want_hi;
            if (q == 1) {
                lo = fmin(lo, ratio);
                hi = fmax(hi, ratio);
            }
        }
        CHECK_INT(in_range, n);
    }
    /* the rate is per number, spread over the 8-12 % range */
    printf("one-quarter ratios: %.3f .. %.3f\n", lo, hi);
    CHECK(lo < 0.895);
    CHECK(hi > 0.905);

    /* open harassment and fraud marks cost 5 points each */
    char num[32];
    nt_sim_state_t before, after;
    number_at(0, num);
    CHECK_INT(nt_sim_state(sim, scope, num, &before), 0);
    CHECK_INT(nt_sim_mark_inject(sim, scope, num, NT_MARK_HARASSMENT, 3), 0);
    CHECK_INT(nt_sim_mark_inject(sim, scope, num, NT_MARK_FRAUD, 1), 0);
    CHECK_INT(nt_sim_mark_inject(sim, scope, num, NT_MARK_TAXI, 9), 0);
    CHECK_INT(nt_sim_state(sim, scope, num, &after), 0);
    CHECK_INT(after.trust, before.trust - 10);
    nt_sim_free(sim);
}

static void test_tag_review(void)
{
    nt_simconf_t conf = base_conf(3);
    conf.review_tag_delay_s = 3600;
    nt_sim_t *sim = nt_sim_new(&conf, NULL);
    int scope = nt_sim_scope(sim, "baidu");
    char ticket[NT_SIM_TICKET_LEN];
    nt_sim_state_t st0, st;
    CHECK_INT(nt_sim_state(sim, scope, "+8613800138000", &st0), 0);
    CHECK_INT(nt_sim_tag_update(sim, scope, "+8613800138000", "Acme 客服", NULL, ticket), 0);
    CHECK_INT(nt_sim_state(sim, scope, "+8613800138000", &st), 0);
    CHECK_STR(st.label, st0.label);
    nt_sim_advance(sim, 3599 * 1000);
    CHECK_INT(nt_sim_state(sim, scope, "+8613800138000", &st), 0);
    CHECK_STR(st.label, st0.label);
    nt_sim_advance(sim, 1000);
    CHECK_INT(nt_sim_state(sim, scope, "+8613800138000", &st), 0);
    CHECK_STR(st.label, "Acme 客服");
    CHECK_INT(nt_sim_counters(sim)->tag_updates, 1);
    /* the same label again while the first is in review: a duplicate */
    CHECK_INT(nt_sim_tag_update(sim, scope, "+8613800138000", "New", "k1", ticket), 0);
    CHECK_INT(nt_sim_tag_update(sim, scope, "+8613800138000", "New", "k2", ticket), 0);
    CHECK_INT(nt_sim_counters(sim)->duplicate_side_effects, 1);
    nt_sim_free(sim);
}

/* Review verdicts: a forbidden word, a qualification without documents,
 * and a plain label, each read back by ticket before and after the delay;
 * a rejected label is never shown. */
static void test_tag_verdicts(void)
{
    nt_simconf_t conf = base_conf(5);
    conf.review_tag_delay_s = 600;
    nt_sim_t *sim = nt_sim_new(&conf, NULL);
    int scope = nt_sim_scope(sim, "tencent");
    static const struct {
        const char *number, *label;
        bool unverified; /* the platform has no qualification documents */
        nt_sim_tag_t want;
        const char *reason;
    } rows[] = {
        {"+8613900000001", "双11-最低价专线", false, NT_SIM_TAG_REJECTED,
         "label contains a forbidden word: 最"},
        {"+8613900000002", "执业医师-张主任", true, NT_SIM_TAG_REJECTED,
         "qualification not verified: 医师"},
        {"+8613900000003", "执业医师-张主任", false, NT_SIM_TAG_APPLIED, ""},
        {"+8613900000004", "夜间急诊-22:00-3:00", true, NT_SIM_TAG_APPLIED, ""},
    };
    char tickets[NT_ARRAY_LEN(rows)][NT_SIM_TICKET_LEN];
    nt_sim_state_t before[NT_ARRAY_LEN(rows)];
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        nt_sim_tag_t state;
        char reason[NT_SIM_REASON_MAX];
        CHECK_INT(nt_sim_qualification_set(sim, scope, rows[i].number, !rows[i].unverified), 0);
        CHECK_INT(nt_sim_state(sim, scope, rows[i].number, &before[i]), 0);
        CHECK_INT(nt_sim_tag_update(sim, scope, rows[i].number, rows[i].label, NULL, tickets[i]),
                  0);
        CHECK_INT(nt_sim_tag_status(sim, scope, tickets[i], &state, reason), 0);
        CHECK_INT(state, NT_SIM_TAG_PENDING);
        CHECK_STR(reason, "");
    }
    nt_sim_advance(sim, 600 * 1000);
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        nt_sim_tag_t state;
        char reason[NT_SIM_REASON_MAX];
        nt_sim_state_t st;
        CHECK_INT(nt_sim_tag_status(sim, scope, tickets[i], &state, reason), 0);
        CHECKF(state == rows[i].want, "%s: state %d, want %d", rows[i].label, state, rows[i].want);
        CHECK_STR(reason, rows[i].reason);
        CHECK_INT(nt_sim_state(sim, scope, rows[i].number, &st), 0);
        CHECK_STR(st.label, rows[i].want == NT_SIM_TAG_APPLIED ? rows[i].label : before[i].label);
    }
    CHECK_INT(nt_sim_counters(sim)->tags_rejected, 2);
    nt_sim_tag_t state;
    char reason[NT_SIM_REASON_MAX];
    CHECK_INT(nt_sim_tag_status(sim, scope, "0000000000000000", &state, reason), NT_ENOENT);
    nt_sim_free(sim);
}

/* Certifications have a term: certified until it ends, expired after; a
 * renewal extends it a term from the expiry (or from when it takes effect
 * if already expired); pending, revoked and unregistered ones cannot be
 * renewed. */
static void test_cert_lifecycle(void)
{
    nt_simconf_t conf = base_conf(7);
    conf.review_renewal_delay_s = 86400;
    nt_sim_t *sim = nt_sim_new(&conf, NULL);
    int scope = nt_sim_scope(sim, "baidu");
    int certified = 0, expired = 0, other = 0, in_term = 0;
    char cert_num[32] = "", other_num[32] = "";
    int64_t cert_exp = 0;
    for (int i = 0; i < 2000; i++) {
        char n[32];
        nt_sim_state_t st;
        number_at(i, n);
        CHECK_INT(nt_sim_state(sim, scope, n, &st), 0);
        int64_t start = nt_sim_now(sim);
        if (st.cert == NT_CERT_CERTIFIED) {
            certified++;
            in_term +=
                st.cert_expires_ms > start && st.cert_expires_ms <= start + 365 * DAY_S * 1000;
            if (cert_num[0] == '\0' || st.cert_expires_ms < cert_exp) {
                snprintf(cert_num, sizeof(cert_num), "%s", n);
                cert_exp = st.cert_expires_ms;
            }
        } else if (st.cert == NT_CERT_EXPIRED) {
            expired++;
            CHECK(st.cert_expires_ms > 0 && st.cert_expires_ms < start);
        } else {
            other++;
            CHECK(st.cert_expires_ms == 0);
            if (other_num[0] == '\0')
                snprintf(other_num, sizeof(other_num), "%s", n);
        }
    }
    CHECK_INT(in_term, certified);
    CHECK(expired > 0 && other > 0);
    /* the earliest certified one expires on its date */
    nt_sim_state_t st;
    nt_sim_advance(sim, cert_exp - nt_sim_now(sim) - 1000);
    CHECK_INT(nt_sim_state(sim, scope, cert_num, &st), 0);
    CHECK_INT(st.cert, NT_CERT_CERTIFIED);
    nt_sim_advance(sim, 1000);
    CHECK_INT(nt_sim_state(sim, scope, cert_num, &st), 0);
    CHECK_INT(st.cert, NT_CERT_EXPIRED);
    /* renewed a day later, a term from then */
    char ticket[NT_SIM_TICKET_LEN];
    int64_t asked = nt_sim_now(sim);
    CHECK_INT(nt_sim_renew(sim, scope, cert_num, "r1", ticket), 0);
    CHECK_INT(nt_sim_state(sim, scope, cert_num, &st), 0);
    CHECK_INT(st.cert, NT_CERT_EXPIRED);
    nt_sim_advance(sim, 86400 * 1000);
    CHECK_INT(nt_sim_state(sim, scope, cert_num, &st), 0);
    CHECK_INT(st.cert, NT_CERT_CERTIFIED);
    CHECK_INT(st.cert_expires_ms, asked + 86400 * 1000 + 365 * DAY_S * 1000);
    CHECK_INT(nt_sim_counters(sim)->renewals, 1);
    CHECK_INT(nt_sim_renew(sim, scope, other_num, "r2", ticket), NT_EINVAL);
    nt_sim_free(sim);
}

static void test_appeal_progression(void)
{
    static const struct {
        double approve_rate;
        nt_appeal_t final;
        bool mark_left;
    } cases[] = {
        {1.0, NT_APPEAL_APPROVED, false},
        {0.0, NT_APPEAL_REJECTED, true},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        nt_simconf_t conf = base_conf(9);
        conf.marks_initial_share = 0;
        conf.marks_weekly_unmaintained = 0;
        conf.marks_weekly_maintained = 0;
        conf.review_appeal_in_review_after_s = 600;
        conf.review_appeal_decided_after_s = 43200;
        conf.review_appeal_approve_rate = cases[i].approve_rate;
        nt_sim_t *sim = nt_sim_new(&conf, NULL);
        int scope = nt_sim_scope(sim, "tencent");
        const char *num = "+8613900000001";
        char ticket[NT_SIM_TICKET_LEN];
        nt_appeal_t status;
        nt_sim_state_t st;

        CHECK_INT(nt_sim_appeal_submit(sim, scope, num, NT_MARK_FRAUD, NULL, ticket), NT_ENOENT);
        CHECK_INT(nt_sim_mark_inject(sim, scope, num, NT_MARK_FRAUD, 4), 0);
        CHECK_INT(nt_sim_appeal_submit(sim, scope, num, NT_MARK_FRAUD, NULL, ticket), 0);
        CHECK_INT(nt_sim_appeal_status(sim, scope, ticket, &status), 0);
        CHECK_INT(status, NT_APPEAL_SUBMITTED);
        nt_sim_advance(sim, 599 * 1000);
        CHECK_INT(nt_sim_appeal_status(sim, scope, ticket, &status), 0);
        CHECK_INT(status, NT_APPEAL_SUBMITTED);
        nt_sim_advance(sim, 1000);
        CHECK_INT(nt_sim_appeal_status(sim, scope, ticket, &status), 0);
        CHECK_INT(status, NT_APPEAL_IN_REVIEW);
        nt_sim_advance(sim, (43200 - 600) * 1000LL - 1);
        CHECK_INT(nt_sim_appeal_status(sim, scope, ticket, &status), 0);
        CHECK_INT(status, NT_APPEAL_IN_REVIEW);
        CHECK_INT(nt_sim_state(sim, scope, num, &st), 0);
        CHECK_INT(st.nmarks, 1);
        nt_sim_advance(sim, 1);
        CHECK_INT(nt_sim_appeal_status(sim, scope, ticket, &status), 0);
        CHECK_INT(status, cases[i].final);
        CHECK_INT(nt_sim_state(sim, scope, num, &st), 0);
        CHECK_INT(st.nmarks, cases[i].mark_left ? 1 : 0);
        CHECK_INT(nt_sim_appeal_status(sim, scope, "0000000000000000", &status), NT_ENOENT);
        CHECK_INT(nt_sim_counters(sim)->appeals, 1);
        nt_sim_free(sim);
    }

    /* about appeal_approve_rate of many appeals are approved */
    nt_simconf_t conf = base_conf(10);
    nt_sim_t *sim = nt_sim_new(&conf, NULL);
    int scope = nt_sim_scope(sim, "tencent");
    int approved = 0, n = 1000;
    char tickets[1000][NT_SIM_TICKET_LEN];
    for (int i = 0; i < n; i++) {
        char num[32];
        number_at(i, num);
        CHECK_INT(nt_sim_mark_inject(sim, scope, num, NT_MARK_AGENCY, 2), 0);
        CHECK_INT(nt_sim_appeal_submit(sim, scope, num, NT_MARK_AGENCY, NULL, tickets[i]), 0);
    }
    nt_sim_advance(sim, 43200 * 1000LL);
    for (int i = 0; i < n; i++) {
        nt_appeal_t status;
        CHECK_INT(nt_sim_appeal_status(sim, scope, tickets[i], &status), 0);
        approved += status == NT_APPEAL_APPROVED;
    }
    CHECK(approved > 760 && approved < 840);
    /* a second appeal for a mark already under appeal is a duplicate */
    char t2[NT_SIM_TICKET_LEN];
    CHECK_INT(nt_sim_mark_inject(sim, scope, "+8613700000000", NT_MARK_FRAUD, 1), 0);
    CHECK_INT(nt_sim_appeal_submit(sim, scope, "+8613700000000", NT_MARK_FRAUD, NULL, t2), 0);
    CHECK_INT(nt_sim_appeal_submit(sim, scope, "+8613700000000", NT_MARK_FRAUD, NULL, t2), 0);
    CHECK_INT(nt_sim_counters(sim)->duplicate_side_effects, 1);
    nt_sim_free(sim);
}

static void test_injected_marks(void)
{
    nt_simconf_t conf = base_conf(1);
    conf.marks_initial_share = 0;
    conf.marks_weekly_unmaintained = 0;
    conf.marks_weekly_maintained = 0;
    nt_sim_t *sim = nt_sim_new(&conf, NULL);
    int scope = nt_sim_scope(sim, "hiya");
    const char *num = "+14155550100";
    nt_sim_state_t st;
    CHECK_INT(nt_sim_mark_inject(sim, scope, num, NT_MARK_TAXI, 5), 0);
    CHECK_INT(nt_sim_mark_inject(sim, scope, num, NT_MARK_FRAUD, 5), 0);
    CHECK_INT(nt_sim_mark_inject(sim, scope, num, NT_MARK_HARASSMENT, 2), 0);
    CHECK_INT(nt_sim_state(sim, scope, num, &st), 0);
    CHECK_INT(st.nmarks, 3);
    /* count descending, then taxonomy order: fraud before taxi */
    CHECK_INT(st.marks[0].type, NT_MARK_FRAUD);
    CHECK_INT(st.marks[1].type, NT_MARK_TAXI);
    CHECK_INT(st.marks[2].type, NT_MARK_HARASSMENT);
    nt_sim_advance(sim, 365 * DAY_S * 1000);
    CHECK_INT(nt_sim_state(sim, scope, num, &st), 0);
    CHECK_INT(st.nmarks, 3); /* still there a year later */
    CHECK_INT(nt_sim_mark_clear(sim, scope, num, NT_MARK_TAXI), 0);
    CHECK_INT(nt_sim_state(sim, scope, num, &st), 0);
    CHECK_INT(st.nmarks, 2);
    CHECK_INT(nt_sim_mark_clear(sim, scope, num, -1), 0);
    CHECK_INT(nt_sim_state(sim, scope, num, &st), 0);
    CHECK_INT(st.nmarks, 0);
    nt_sim_free(sim);
}

static void test_ticket_ids(void)
{
    nt_simconf_t c1 = base_conf(42), c2 = base_conf(42), c3 = base_conf(43);
    nt_sim_t *s1 = nt_sim_new(&c1, NULL), *s2 = nt_sim_new(&c2, NULL), *s3 = nt_sim_new(&c3, NULL);
    char t1[NT_SIM_TICKET_LEN], t2[NT_SIM_TICKET_LEN], t3[NT_SIM_TICKET_LEN];
    int a1 = nt_sim_scope(s1, "baidu"), a2 = nt_sim_scope(s2, "baidu"),
        a3 = nt_sim_scope(s3, "baidu");
    CHECK_INT(nt_sim_tag_update(s1, a1, "+8613800138000", "A", "job-1", t1), 0);
    CHECK_INT(nt_sim_tag_update(s2, a2, "+8613800138001", "B", "job-1", t2), 0);
    CHECK_INT(nt_sim_tag_update(s3, a3, "+8613800138000", "A", "job-1", t3), 0);
    CHECK_STR(t1, t2);          /* same (seed, scope, key) */
    CHECK(strcmp(t1, t3) != 0); /* another seed */
    /* without a key: unique within the scope */
    char seen[500][NT_SIM_TICKET_LEN];
    int dups = 0;
    for (int i = 0; i < 500; i++) {
        CHECK_INT(nt_sim_tag_update(s1, a1, "+8613800138000", "A", NULL, seen[i]), 0);
        for (int j = 0; j < i; j++)
            dups += strcmp(seen[i], seen[j]) == 0;
        dups += strcmp(seen[i], t1) == 0;
    }
    CHECK_INT(dups, 0);
    CHECK_INT(nt_sim_scope(s1, "bad/scope"), NT_EINVAL);
    CHECK_INT(nt_sim_scope(s1, ""), NT_EINVAL);
    nt_sim_free(s1);
    nt_sim_free(s2);
    nt_sim_free(s3);
}

static void test_record_cap(void)
{
    nt_simconf_t conf = base_conf(1);
    conf.max_records = 1000;
    nt_sim_t *sim = nt_sim_new(&conf, NULL);
    int scope = nt_sim_scope(sim, "baidu");
    int rc = 0, ok = 0;
    for (int i = 0; i < 1100 && rc == 0; i++) {
        char num[32];
        number_at(i, num);
        rc = nt_sim_mark_inject(sim, scope, num, NT_MARK_FRAUD, 1);
        ok += rc == 0;
    }
    CHECK_INT(rc, NT_ETOOBIG);
    CHECK_INT(ok, 1000);
    nt_sim_free(sim);
}

int main(void)
{
    test_determinism();
    test_initial_distribution();
    test_marks_over_time();
    test_trust_decay();
    test_tag_review();
    test_tag_verdicts();
    test_cert_lifecycle();
    test_appeal_progression();
    test_injected_marks();
    test_ticket_ids();
    test_record_cap();
    CHECK_DONE();
}
