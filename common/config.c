/*
 * config.c — the typed config table and its three sources (see config.h).
 *
 * Each key is one row of config_table: name, type, default, bounds, secret
 * flag, field offset and a line of documentation. Adding a key is adding a
 * row (and a field in nt_config_t). The engine that applies the rows —
 * parsing, bounds, JSON flattening, defaults — is common/conftab.c, shared
 * with the simulator; this file has numtrust's keys, the kafka.* pass-
 * through, the NUMTRUST_* environment, the checks across keys and masking.
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conftab.h"
#include "log.h"

extern char **environ;

/* A row: key, type, default, bounds (CT_INT), secret, field, help. */
typedef nt_conf_key_t centry_t;
#define CT_STR   NT_CONF_STR
#define CT_INT   NT_CONF_INT
#define CT_BOOL  NT_CONF_BOOL
#define F(field) NT_CONF_FIELD(nt_config_t, field)

static const centry_t config_table[] = {
    {"log.level", CT_STR, "info", 0, 0, false, F(log_level),
     "Minimum log level: debug, info, warn or error."},
    {"pg.conninfo", CT_STR, "host=127.0.0.1 port=25432 dbname=numtrust user=numtrust", 0, 0, true,
     F(pg_conninfo), "libpq connection string (a password in it is never logged)."},
    {"pg.connect_timeout_s", CT_INT, "10", 1, 3600, false, F(pg_connect_timeout_s),
     "Seconds to keep trying to reach PostgreSQL at start-up."},
    {"topics.prefix", CT_STR, "numtrust", 0, 0, false, F(topics_prefix),
     "Prefix of every topic name: <prefix>.check, .tag, .appeal, .retry.<tier>, .dead."},
    {"topics.partitions", CT_INT, "12", 1, 10000, false, F(topics_partitions),
     "Partitions per job topic (the most workers that can share the load)."},
    {"topics.replication", CT_INT, "1", 1, 16, false, F(topics_replication),
     "Replication factor of the topics numtrust creates."},
    {"topics.retry_tiers", CT_STR, "30s,5m,1h", 0, 0, false, F(topics_retry_tiers),
     "Retry tiers, each a fixed delay (s, m or h); one topic per tier."},
    {"platforms_file", CT_STR, "platforms.json", 0, 0, false, F(platforms_file),
     "Path of the platform adapters file (docs/platforms.md)."},
    {"sql_dir", CT_STR, "", 0, 0, false, F(sql_dir),
     "Directory of the numbered migration files applied by `numtrust-producer migrate`; "
     "empty: ../share/numtrust/sql from the program's own directory, where `cmake --install` "
     "and the build tree put them."},
    {"job.max_bytes", CT_INT, "65536", 256, 1048576, false, F(job_max_bytes),
     "Largest job envelope accepted; bigger messages go to the dead-letter topic."},
    {"job.max_attempts", CT_INT, "5", 1, 100, false, F(job_max_attempts),
     "Platform calls a job may make before it is dead."},
    {"worker.group_id", CT_STR, "numtrust-workers", 0, 0, false, F(worker_group_id),
     "Kafka consumer group shared by all workers."},
    {"worker.id", CT_STR, "", 0, 0, false, F(worker_id),
     "Name of this worker in results and logs; empty: <hostname>-<pid>."},
    {"worker.max_inflight", CT_INT, "10000", 1, 100000, false, F(worker_max_inflight),
     "Most jobs a worker holds at once: the ceiling of its in-flight window, which is sized "
     "from measured throughput and service time (Little's law); partitions pause beyond it."},
    {"worker.min_inflight", CT_INT, "2000", 1, 100000, false, F(worker_min_inflight),
     "Fewest jobs the in-flight window allows (at most worker.max_inflight): what the claim and "
     "result batches hold however fast the platforms answer; equal to worker.max_inflight: a "
     "fixed window."},
    {"worker.batch_max", CT_INT, "500", 1, 10000, false, F(worker_batch_max),
     "Most results written in one PostgreSQL transaction."},
    {"worker.batch_linger_ms", CT_INT, "5", 0, 10000, false, F(worker_batch_linger_ms),
     "How long a result may wait for others to share its write."},
    {"worker.drain_timeout_ms", CT_INT, "10000", 100, 600000, false, F(worker_drain_timeout_ms),
     "On shutdown or partition revoke: time allowed to finish in-flight jobs."},
    {"worker.http_max_body", CT_INT, "1048576", 1024, 67108864, false, F(worker_http_max_body),
     "Largest platform response body read."},
    {"worker.http_max_conns", CT_INT, "4096", 1, 65536, false, F(worker_http_max_conns),
     "Most connections per platform host; the window (worker.max_inflight) and the rate limits "
     "bound the real concurrency."},
    {"worker.metrics_listen", CT_STR, "", 0, 0, false, F(worker_metrics_listen),
     "host:port for /metrics, /healthz, /readyz; empty: off."},
    {"worker.retry_after_max_s", CT_INT, "300", 1, 86400, false, F(worker_retry_after_max_s),
     "Longest Retry-After obeyed (at most the last retry tier's delay); a platform asking for "
     "longer is called again after this."},
    {"worker.ready_stall_s", CT_INT, "10", 1, 3600, false, F(worker_ready_stall_s),
     "/readyz answers 503 once results have waited this long without a write committing "
     "(database frozen, locked, read-only or full)."},
    {"worker.appeal_fast_path", CT_BOOL, "true", 0, 0, false, F(worker_appeal_fast_path),
     "Enqueue an appeal as soon as a check finds a new mark of an appealed type."},
    {"worker.appeal_marks", CT_STR, "harassment,fraud,agency", 0, 0, false, F(worker_appeal_marks),
     "Mark types numtrust appeals automatically at all: the workers' fast path appeals them as "
     "soon as a check finds them; the reconciler's appeals take, among them, those of each "
     "tenant's policy (appeal_marks, docs/policies.md)."},
    {"producer.metrics_listen", CT_STR, "", 0, 0, false, F(producer_metrics_listen),
     "host:port for the producer daemon's /metrics, /healthz, /readyz; empty: off."},
    {"producer.interval_s", CT_INT, "60", 1, 86400, false, F(producer_interval_s),
     "Seconds between reconciler passes of `numtrust-producer run`."},
    {"report.snapshot_min_registrations", CT_INT, "1000000", 1, 2000000000, false,
     F(report_snapshot_min_registrations),
     "Registrations from which the reconciler keeps a snapshot of the fleet's state for the "
     "report's fleet-wide sections (migration 011); below it they are computed live."},
    {"report.snapshot_interval_s", CT_INT, "3600", 60, 604800, false, F(report_snapshot_interval_s),
     "Seconds between refreshes of that snapshot (`report --refresh`: now)."},
    {"sla.lookback_days", CT_INT, "30", 1, 3650, false, F(sla_lookback_days),
     "Days of numtrust time a reconciler pass looks back for new service-level clocks "
     "(marks, appeals, labels) and for quarantine evidence."},
    {"sla.trend_days", CT_INT, "180", 7, 3650, false, F(sla_trend_days),
     "Days of trust scores each registration's trend line is fitted through."},
    {"sla.trend_batch", CT_INT, "20000", 100, 10000000, false, F(sla_trend_batch),
     "Most registrations whose trust trend one pass fits (those checked since their last fit)."},
    {"history.keep_months", CT_INT, "25", 2, 1200, false, F(history_keep_months),
     "Months of check history (the monthly partitions of check_results) and of trust quarters "
     "kept; older months are dropped by the reconciler. The daily rollups behind the reports "
     "are kept."},
    {"history.trust_delta", CT_INT, "10", 1, 100, false, F(history_trust_delta),
     "Points a trust score must move from the last history row's before a check counts as a "
     "change (and writes a history row); the trend and decay reports read every score anyway."},
    {"alerts.poll_ms", CT_INT, "1000", 100, 600000, false, F(alerts_poll_ms),
     "How often the reconciler daemon drains the alert outbox between passes."},
    {"alerts.batch", CT_INT, "100", 1, 10000, false, F(alerts_batch),
     "Most webhook deliveries sent in one round, in parallel."},
    {"alerts.timeout_ms", CT_INT, "5000", 100, 120000, false, F(alerts_timeout_ms),
     "Time a webhook receiver has to answer one delivery."},
    {"alerts.backoff_base_ms", CT_INT, "1000", 10, 3600000, false, F(alerts_backoff_base_ms),
     "Wait before the first retry of a failed delivery; doubled on every further attempt."},
    {"alerts.backoff_max_ms", CT_INT, "3600000", 10, 86400000, false, F(alerts_backoff_max_ms),
     "Longest wait between two attempts of a delivery."},
    {"alerts.max_attempts", CT_INT, "100", 1, 100000, false, F(alerts_max_attempts),
     "Attempts before a delivery is marked dead (listed by `alerts deliveries --state dead`, "
     "re-queued by `alerts retry`)."},
    {"loop.verify_after_s", CT_INT, "21600", 60, 31536000, false, F(loop_verify_after_s),
     "Seconds after a label push, an approved appeal or a renewal when a verification check is "
     "due (and again every as many seconds until a check sees the change)."},
    {"loop.verify_timeout_s", CT_INT, "604800", 3600, 31536000, false, F(loop_verify_timeout_s),
     "Seconds a push may stay neither confirmed by the platform nor seen by a check before it "
     "is `unconfirmed` (and may be pushed again)."},
    {"loop.tag_poll_s", CT_INT, "3600", 60, 31536000, false, F(loop_tag_poll_s),
     "Seconds between review polls (tag_status) of a pending label push."},
    {"loop.push_uncertified", CT_BOOL, "false", 0, 0, false, F(loop_push_uncertified),
     "Push labels to registrations whose certification is not `certified` (expired, revoked, "
     "pending, none)."},
    {"loop.appeal_cooldown_s", CT_INT, "604800", 0, 31536000, false, F(loop_appeal_cooldown_s),
     "Seconds after a rejected appeal before it is filed again with its history."},
    {"loop.appeal_max_rounds", CT_INT, "3", 1, 20, false, F(loop_appeal_max_rounds),
     "Appeals filed for one opening of a mark; after that many rejections the mark is "
     "`escalated`."},
    {"loop.renew_ahead_s", CT_INT, "2592000", 0, 31536000, false, F(loop_renew_ahead_s),
     "Seconds before a certification expires when its renewal is asked for (or a maintenance item "
     "raised on platforms without a renewal API)."},
    {"loop.retry_backoff_s", CT_INT, "600", 1, 86400, false, F(loop_retry_backoff_s),
     "Real seconds after a job failed (credentials, a dead platform) before the reconciler runs "
     "it again; doubled for each further attempt."},
    {"loop.retry_max", CT_INT, "6", 0, 30, false, F(loop_retry_max),
     "Times the reconciler runs failed work again before it gives up (and counts it as given "
     "up); 0: never."},
    {"api.listen", CT_STR, "127.0.0.1:28090", 0, 0, false, F(api_listen),
     "host:port of the control plane's HTTP API (`numtrust-producer serve`), with /metrics, "
     "/healthz and /readyz."},
    {"api.max_body_bytes", CT_INT, "65536", 1024, 16777216, false, F(api_max_body_bytes),
     "Largest JSON request body; bigger ones get 413."},
    {"api.max_import_bytes", CT_INT, "8388608", 1024, 268435456, false, F(api_max_import_bytes),
     "Largest body of a bulk import (CSV, iCalendar); bigger ones get 413."},
    {"api.max_conns", CT_INT, "64", 1, 10000, false, F(api_max_conns),
     "Most concurrent connections (one thread each); more wait in the listen queue."},
    {"api.timeout_s", CT_INT, "30", 1, 3600, false, F(api_timeout_s),
     "Seconds a connection may stay idle or take to send its request."},
    {"api.statement_timeout_ms", CT_INT, "15000", 100, 3600000, false, F(api_statement_timeout_ms),
     "PostgreSQL statement_timeout of the API's connections."},
    {"api.rate_per_s", CT_INT, "20", 1, 100000, false, F(api_rate_per_s),
     "Requests per second allowed per token (token bucket); more get 429 with Retry-After."},
    {"api.rate_burst", CT_INT, "40", 1, 100000, false, F(api_rate_burst),
     "Burst of requests allowed per token above api.rate_per_s."},
    {"api.callback_rate_per_s", CT_INT, "500", 1, 1000000, false, F(api_callback_rate_per_s),
     "Platform callbacks per second accepted per platform (POST /v1/callbacks/{platform}); "
     "more get 503 with Retry-After, which platforms retry (many never retry a 4xx such as "
     "429, and a lost decision waits for the next status poll)."},
    {"api.callback_rate_burst", CT_INT, "1000", 1, 1000000, false, F(api_callback_rate_burst),
     "Burst of callbacks allowed per platform above api.callback_rate_per_s."},
    {"api.feedback_per_min", CT_INT, "6", 1, 100000, false, F(api_feedback_per_min),
     "Callee reports per minute accepted from one source (the reporting callee's address, else "
     "the poster's)."},
    {"api.pg_pool", CT_INT, "4", 1, 256, false, F(api_pg_pool),
     "PostgreSQL connections the API keeps open between requests."},
};

#undef F

#define NKEYS NT_ARRAY_LEN(config_table)

static int kafka_set(nt_config_t *cfg, const char *prop, const char *value, nt_err_t *err)
{
    if (prop[0] == '\0')
        return nt_err_set(err, NT_EINVAL, false, "empty kafka property name");
    for (size_t i = 0; i < cfg->nkafka; i++) {
        if (strcmp(cfg->kafka[i].key, prop) == 0) {
            char *v = strdup(value);
            if (v == NULL)
                return nt_err_set(err, NT_ENOMEM, false, "out of memory");
            free(cfg->kafka[i].value);
            cfg->kafka[i].value = v;
            return NT_OK;
        }
    }
    nt_kv_t *kv = realloc(cfg->kafka, (cfg->nkafka + 1) * sizeof(*kv));
    if (kv == NULL)
        return nt_err_set(err, NT_ENOMEM, false, "out of memory");
    cfg->kafka = kv;
    kv[cfg->nkafka].key = strdup(prop);
    kv[cfg->nkafka].value = strdup(value);
    if (kv[cfg->nkafka].key == NULL || kv[cfg->nkafka].value == NULL) {
        free(kv[cfg->nkafka].key);
        free(kv[cfg->nkafka].value);
        return nt_err_set(err, NT_ENOMEM, false, "out of memory");
    }
    cfg->nkafka++;
    return NT_OK;
}

int nt_config_set(nt_config_t *cfg, const char *key, const char *value, const char *origin,
                  nt_err_t *err)
{
    if (strncmp(key, "kafka.", 6) == 0)
        return kafka_set(cfg, key + 6, value, err);
    const centry_t *e = nt_conftab_find(config_table, NKEYS, key);
    if (e == NULL)
        return nt_err_set(err, NT_EINVAL, false, "%s: unknown key \"%s\"", origin, key);
    return nt_conftab_set(e, cfg, value, origin, err);
}

/* The keys the table does not have: kafka.* pass through to librdkafka. */
static int kafka_json(void *ctx, void *base, const char *key, const char *shown, const cJSON *v,
                      const char *origin, nt_err_t *err)
{
    char num[64];
    const char *value = NULL;
    (void)ctx;
    if (strncmp(key, "kafka.", 6) != 0)
        return NT_ENOENT;
    if (cJSON_IsString(v)) {
        value = v->valuestring;
    } else if (cJSON_IsBool(v)) {
        value = cJSON_IsTrue(v) ? "true" : "false";
    } else if (cJSON_IsNumber(v)) {
        snprintf(num, sizeof(num), "%.17g", v->valuedouble);
        value = num;
    } else {
        return nt_err_set(err, NT_EINVAL, false,
                          "%s: key \"%s\": must be a string, number or boolean", origin, shown);
    }
    return kafka_set(base, key + 6, value, err);
}

static int load_file(nt_config_t *cfg, const char *file, nt_err_t *err)
{
    nt_buf_t b;
    FILE *fp = NULL;
    cJSON *root = NULL;
    int rc = NT_OK;
    char chunk[4096];

    nt_buf_init(&b, 4 * 1024 * 1024);
    fp = fopen(file, "rb");
    if (fp == NULL) {
        rc = nt_err_set(err, NT_EINVAL, false, "config file %s: %s", file, strerror(errno));
        goto out;
    }
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        if (nt_buf_append(&b, chunk, n) != NT_OK) {
            rc = nt_err_set(err, NT_EINVAL, false, "config file %s: larger than 4 MiB", file);
            goto out;
        }
    }
    root = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
    if (root == NULL || !cJSON_IsObject(root)) {
        rc = nt_err_set(err, NT_EINVAL, false, "config file %s: not a JSON object", file);
        goto out;
    }
    rc =
        nt_conftab_apply_json(config_table, NKEYS, cfg, root, NULL, 0, kafka_json, NULL, file, err);
out:
    cJSON_Delete(root);
    if (fp != NULL)
        fclose(fp);
    nt_buf_free(&b);
    return rc;
}

static int load_env(nt_config_t *cfg, nt_err_t *err)
{
    for (char **ep = environ; *ep != NULL; ep++) {
        const char *kv = *ep;
        if (strncmp(kv, "NUMTRUST_", 9) != 0)
            continue;
        const char *eq = strchr(kv, '=');
        if (eq == NULL)
            continue;
        char name[256];
        size_t nlen = (size_t)(eq - kv);
        if (nlen >= sizeof(name))
            return nt_err_set(err, NT_EINVAL, false, "environment variable name too long");
        memcpy(name, kv, nlen);
        name[nlen] = '\0';
        const char *value = eq + 1;
        if (strcmp(name, "NUMTRUST_CONFIG") == 0)
            continue;
        if (strncmp(name, "NUMTRUST_KAFKA_", 15) == 0) {
            char prop[256];
            size_t o = 0;
            for (const char *p = name + 15; *p && o + 1 < sizeof(prop); p++)
                prop[o++] = *p == '_' ? '.' : (char)tolower((unsigned char)*p);
            prop[o] = '\0';
            int rc = kafka_set(cfg, prop, value, err);
            if (rc != NT_OK)
                return rc;
            continue;
        }
        const centry_t *e = NULL;
        for (size_t i = 0; i < NKEYS; i++) {
            char en[256];
            nt_conftab_env_name("NUMTRUST_", config_table[i].key, en, sizeof(en));
            if (strcmp(en, name) == 0) {
                e = &config_table[i];
                break;
            }
        }
        if (e == NULL)
            return nt_err_set(err, NT_EINVAL, false,
                              "environment: unknown variable %s (no such config key)", name);
        char origin[300];
        snprintf(origin, sizeof(origin), "environment %s", name);
        int rc = nt_conftab_set(e, cfg, value, origin, err);
        if (rc != NT_OK)
            return rc;
    }
    return NT_OK;
}

/* Checks that need more than one key or more than bounds. */
static int validate(const nt_config_t *cfg, nt_err_t *err)
{
    nt_log_level_t level;
    if (nt_log_level_parse(cfg->log_level, &level) != NT_OK)
        return nt_err_set(err, NT_EINVAL, false,
                          "key log.level: \"%s\" is not one of debug, info, warn, error",
                          cfg->log_level);
    if (cfg->topics_prefix[0] == '\0' || strlen(cfg->topics_prefix) > 200)
        return nt_err_set(err, NT_EINVAL, false, "key topics.prefix: must be 1-200 characters");
    for (const char *p = cfg->topics_prefix; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
            return nt_err_set(err, NT_EINVAL, false,
                              "key topics.prefix: \"%s\" has a character Kafka refuses",
                              cfg->topics_prefix);
    }
    if (nt_config_kafka_get(cfg, "bootstrap.servers") == NULL)
        return nt_err_set(err, NT_EINVAL, false,
                          "key kafka.bootstrap.servers is not set "
                          "(set NUMTRUST_KAFKA_BOOTSTRAP_SERVERS or kafka.bootstrap.servers)");
    if (cfg->worker_group_id[0] == '\0')
        return nt_err_set(err, NT_EINVAL, false, "key worker.group_id: must not be empty");
    if (cfg->worker_batch_max > cfg->worker_max_inflight)
        return nt_err_set(err, NT_EINVAL, false,
                          "key worker.batch_max: %d is larger than worker.max_inflight (%d)",
                          cfg->worker_batch_max, cfg->worker_max_inflight);
    return NT_OK;
}

int nt_config_load(nt_config_t *cfg, const char *file, nt_err_t *err)
{
    int rc = NT_OK;
    memset(cfg, 0, sizeof(*cfg));
    rc = nt_conftab_defaults(config_table, NKEYS, cfg, err);
    if (rc != NT_OK)
        goto out;
    rc = kafka_set(cfg, "bootstrap.servers", "127.0.0.1:29092", err);
    if (rc != NT_OK)
        goto out;
    if (file != NULL && file[0] != '\0') {
        cfg->file = strdup(file);
        rc = load_file(cfg, file, err);
        if (rc != NT_OK)
            goto out;
    }
    rc = load_env(cfg, err);
    if (rc != NT_OK)
        goto out;
    rc = validate(cfg, err);
out:
    if (rc != NT_OK)
        nt_config_free(cfg);
    return rc;
}

void nt_config_free(nt_config_t *cfg)
{
    if (cfg == NULL)
        return;
    nt_conftab_free(config_table, NKEYS, cfg);
    for (size_t i = 0; i < cfg->nkafka; i++) {
        free(cfg->kafka[i].key);
        free(cfg->kafka[i].value);
    }
    free(cfg->kafka);
    free(cfg->file);
    memset(cfg, 0, sizeof(*cfg));
}

const char *nt_config_kafka_get(const nt_config_t *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->nkafka; i++)
        if (strcmp(cfg->kafka[i].key, key) == 0)
            return cfg->kafka[i].value;
    return NULL;
}

/* librdkafka properties shown as ****: any whose name holds one of these
 * (sasl.password, ssl.key.password, sasl.oauthbearer.client.secret,
 * ssl.key.pem, sasl.oauthbearer.config: "principal=… extension_…=<token>"). */
static bool kafka_is_secret(const char *key)
{
    static const char *const parts[] = {"password", "secret",      "key",
                                        "token",    "credentials", "oauthbearer.config"};
    for (size_t i = 0; i < NT_ARRAY_LEN(parts); i++)
        if (strstr(key, parts[i]) != NULL)
            return true;
    return false;
}

/* libpq keywords whose value is a secret: password, and sslpassword (the
 * passphrase of the client key). */
static bool pg_key_is_secret(const char *k, size_t len)
{
    return (len == 8 && strncmp(k, "password", 8) == 0) ||
           (len == 11 && strncmp(k, "sslpassword", 11) == 0);
}

static void put_line(int fd, nt_buf_t *b)
{
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = write(fd, b->data + off, b->len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    nt_buf_reset(b);
}

/* Masks a postgresql:// URI: the password in user:password@ and any
 * password= query parameter. */
static void mask_uri(const char *ci, nt_buf_t *b, int *rc)
{
    const char *p = strstr(ci, "://") + 3;
    const char *hostpart = p + strcspn(p, "/?");
    const char *at = memchr(p, '@', (size_t)(hostpart - p));
    *rc = nt_buf_append(b, ci, (size_t)(p - ci));
    if (*rc == NT_OK && at != NULL) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon != NULL) {
            *rc = nt_buf_append(b, p, (size_t)(colon - p) + 1);
            if (*rc == NT_OK)
                *rc = nt_buf_puts(b, "****");
            p = at;
        }
    }
    const char *q = strchr(p, '?');
    if (*rc == NT_OK)
        *rc = nt_buf_append(b, p, q ? (size_t)(q - p) : strlen(p));
    while (*rc == NT_OK && q != NULL && *q) {
        const char *next = strchr(q + 1, '&');
        size_t len = next ? (size_t)(next - q) : strlen(q);
        size_t klen = strcspn(q + 1, "=&");
        if (q[1 + klen] == '=' && pg_key_is_secret(q + 1, klen)) {
            *rc = nt_buf_append(b, q, klen + 2);
            if (*rc == NT_OK)
                *rc = nt_buf_puts(b, "****");
        } else {
            *rc = nt_buf_append(b, q, len);
        }
        q = next;
    }
}

/* Writes conninfo as written, but with the password's value replaced by
 * **** in every form libpq accepts: key = value (quoted or not, spaces
 * around '=') and postgresql:// URIs. A conninfo that libpq cannot parse is
 * shown as **** altogether. */
static void mask_conninfo(const char *ci, char *out, size_t outsz)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(ci, &errmsg);
    PQfreemem(errmsg);
    if (opts == NULL) {
        snprintf(out, outsz, "****");
        return;
    }
    PQconninfoFree(opts);
    nt_buf_t b;
    nt_buf_init(&b, 0);
    int rc = NT_OK;
    if (strncmp(ci, "postgresql://", 13) == 0 || strncmp(ci, "postgres://", 11) == 0) {
        mask_uri(ci, &b, &rc);
    } else {
        const char *p = ci;
        while (rc == NT_OK && *p) {
            size_t ws = strspn(p, " \t\n\r\f");
            if (ws > 0) {
                rc = nt_buf_append(&b, p, ws);
                p += ws;
                continue;
            }
            size_t klen = strcspn(p, " \t\n\r\f=");
            bool secret = pg_key_is_secret(p, klen);
            rc = nt_buf_append(&b, p, klen);
            p += klen;
            size_t sep = strspn(p, " \t\n\r\f=");
            if (rc == NT_OK)
                rc = nt_buf_append(&b, p, sep);
            p += sep;
            const char *v = p;
            if (*p == '\'') {
                for (p++; *p && *p != '\''; p++)
                    if (*p == '\\' && p[1] != '\0')
                        p++;
                if (*p == '\'')
                    p++;
            } else {
                while (*p && !strchr(" \t\n\r\f", *p)) {
                    if (*p == '\\' && p[1] != '\0')
                        p++;
                    p++;
                }
            }
            if (rc == NT_OK)
                rc = secret ? nt_buf_puts(&b, "****") : nt_buf_append(&b, v, (size_t)(p - v));
        }
    }
    snprintf(out, outsz, "%s", rc == NT_OK && b.data != NULL ? b.data : "****");
    nt_buf_free(&b);
}

void nt_config_dump(const nt_config_t *cfg, int fd)
{
    nt_buf_t b;
    nt_buf_init(&b, 0);
    for (size_t i = 0; i < NKEYS; i++) {
        const centry_t *e = &config_table[i];
        int rc = nt_buf_printf(&b, "%s = ", e->key);
        if (rc == NT_OK && e->secret && e->type == CT_STR) {
            char masked[1024];
            mask_conninfo(*(char *const *)(const void *)((const char *)cfg + e->off), masked,
                          sizeof(masked));
            rc = nt_buf_puts(&b, masked);
        } else if (rc == NT_OK) {
            rc = nt_conftab_format(e, cfg, &b);
        }
        if (rc == NT_OK)
            rc = nt_buf_putc(&b, '\n');
        if (rc == NT_OK)
            put_line(fd, &b);
        nt_buf_reset(&b);
    }
    for (size_t i = 0; i < cfg->nkafka; i++) {
        if (nt_buf_printf(&b, "kafka.%s = %s\n", cfg->kafka[i].key,
                          kafka_is_secret(cfg->kafka[i].key) ? "****" : cfg->kafka[i].value) ==
            NT_OK)
            put_line(fd, &b);
    }
    nt_buf_free(&b);
}

void nt_config_doc(int fd)
{
    nt_buf_t b;
    nt_buf_init(&b, 0);
    if (nt_buf_puts(&b,
                    "| key | environment | type | default | meaning |\n|---|---|---|---|---|\n") ==
        NT_OK)
        put_line(fd, &b);
    for (size_t i = 0; i < NKEYS; i++) {
        const centry_t *e = &config_table[i];
        char en[256];
        nt_conftab_env_name("NUMTRUST_", e->key, en, sizeof(en));
        char range[64] = "";
        if (e->type == CT_INT)
            snprintf(range, sizeof(range), " (%.0f–%.0f)", e->min, e->max);
        if (nt_buf_printf(&b, "| `%s` | `%s` | %s%s | `%s` | %s |\n", e->key, en,
                          nt_conftab_type_name(e->type), range, e->def, e->help) == NT_OK)
            put_line(fd, &b);
    }
    if (nt_buf_puts(&b, "| `kafka.<property>` | `NUMTRUST_KAFKA_<PROPERTY>` | string | "
                        "`bootstrap.servers=127.0.0.1:29092` | Any librdkafka property, passed "
                        "through unchanged (dots become underscores in the variable name). |\n") ==
        NT_OK)
        put_line(fd, &b);
    nt_buf_free(&b);
}
