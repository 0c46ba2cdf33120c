/*
 * simconf.h — the simulator's configuration: one typed table of keys.
 *
 * Sources, later ones winning: built-in defaults, the JSON config file
 * (nested objects flatten to dotted keys: {"latency":{"base_ms":5}} is
 * latency.base_ms), the NT_SIM_* environment variables for credentials, then
 * command-line flags. Unknown keys and out-of-range values are errors that
 * name the source, the key and the value. POST /admin/config applies the
 * same table, restricted to the keys marked runtime.
 */
#ifndef NT_SIMCONF_H
#define NT_SIMCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

#define NT_SIMCONF_MAX_PLATFORMS 64
#define NT_SIMCONF_NAME_MAX      64

/* Surfaces a platform shows a label on (nt_simconf_platform_t.surfaces). */
enum { NT_SIM_SURF_ANDROID = 1, NT_SIM_SURF_IOS = 2, NT_SIM_SURF_SEARCH = 4, NT_SIM_SURF_ALL = 7 };

/* One declared platform: its dialect and, optionally, its own seed and model
 * parameters. A parameter left unset (negative) takes the global value. */
typedef struct nt_simconf_platform_s {
    char id[NT_SIMCONF_NAME_MAX];
    char dialect; /* 'a', 'b', 'c' or 'd' */
    uint64_t seed;
    bool has_seed;
    unsigned surfaces;          /* NT_SIM_SURF_* bits; default all three */
    double marks_initial_share; /* < 0: marks.initial_share */
    double labels_shown_share;  /* share of numbers showing an old label; < 0: 0.8 */
    int review_tag_delay_s;     /* < 0: review.tag_delay_s, and so on */
    int review_appeal_in_review_after_s;
    int review_appeal_decided_after_s;
    double review_appeal_approve_rate;
} nt_simconf_platform_t;

typedef struct nt_simconf_s {
    char listen[128];
    uint64_t seed;
    char log_level[16];

    char hmac_key[128];
    char hmac_secret[256]; /* secret */
    int max_skew_s;
    char bearer_token[256];    /* secret */
    char callback_secret[256]; /* secret: signs dialect D's callbacks */

    /* dialect D's callbacks (docs/simulator.md, Callbacks) */
    char callback_url[256]; /* "" = none; {platform} is replaced by the scope */
    double cb_rate_lost;
    double cb_rate_duplicate;
    double cb_rate_reorder;
    double cb_rate_late;
    double cb_rate_forged;
    int cb_late_ms;
    int cb_retries;

    int latency_base_ms;
    int latency_jitter_ms;
    double latency_tail_rate;
    int latency_tail_ms;

    double faults_rate_5xx;
    double faults_rate_timeout;
    double faults_rate_malformed;

    double rate_qps;
    int rate_burst;
    int rate_retry_after_s;

    double clock_speed;
    int64_t clock_start_ms;

    double marks_initial_share;
    double marks_weekly_unmaintained;
    double marks_weekly_maintained;
    int marks_unmaintained_after_days;

    int review_tag_delay_s;
    int review_appeal_in_review_after_s;
    int review_appeal_decided_after_s;
    double review_appeal_approve_rate;
    /* tag review outcomes (docs/simulator.md, "Tag review") */
    char review_forbidden_words[512];     /* comma-separated: a label with one is rejected */
    char review_qualification_words[512]; /* a label with one needs a verified qualification */
    double review_qualification_verified_share;
    /* certification lifecycle */
    int review_renewal_delay_s;
    int certs_term_days; /* a certification's term; renewals extend by it */

    nt_simconf_platform_t platforms[NT_SIMCONF_MAX_PLATFORMS];
    size_t nplatforms;

    int max_batch;
    int max_body_bytes;
    int max_header_bytes;
    int max_conns;
    int idle_timeout_s;
    int max_records; /* cap of each state table (numbers, tickets, idempotency, retries) */
} nt_simconf_t;

/* Fills conf with the documented defaults. */
void nt_simconf_defaults(nt_simconf_t *conf);

/* Applies the JSON config file at path. Returns 0 or NT_EINVAL (err names
 * the file, key and value). */
int nt_simconf_load_file(nt_simconf_t *conf, const char *path, nt_err_t *err) NT_MUSTCHECK;

/* Applies a parsed JSON object. origin names the source in messages. With
 * runtime_only, keys that cannot change at run time are errors. conf is
 * unchanged on error (all keys are validated before any is applied). */
int nt_simconf_apply_json(nt_simconf_t *conf, const cJSON *root, const char *origin,
                          bool runtime_only, nt_err_t *err) NT_MUSTCHECK;

/* Sets one dotted key from text (a flag or variable). */
int nt_simconf_set(nt_simconf_t *conf, const char *key, const char *value, const char *origin,
                   nt_err_t *err) NT_MUSTCHECK;

/* Applies NT_SIM_HMAC_KEY, NT_SIM_HMAC_SECRET, NT_SIM_BEARER_TOKEN. */
int nt_simconf_load_env(nt_simconf_t *conf, nt_err_t *err) NT_MUSTCHECK;

/* Cross-key checks (fault rates add up to at most 1, review times ordered). */
int nt_simconf_validate(const nt_simconf_t *conf, const char *origin, nt_err_t *err) NT_MUSTCHECK;

/* Splits "host:port". Returns 0 or NT_EINVAL. */
int nt_simconf_parse_listen(const char *listen, char *host, size_t hostsz, int *port) NT_MUSTCHECK;

#endif
