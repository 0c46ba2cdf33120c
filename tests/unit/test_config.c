/*
 * test_config.c — the typed config table (config.h): defaults, JSON files
 * with nested keys (written to /tmp with mkstemp), NUMTRUST_* overrides
 * winning over the file, kafka.* pass-through from both, error messages
 * naming the file / variable, key and value, bool parsing, and
 * nt_config_dump never printing a password.
 *
 * The process environment is cleared of NUMTRUST_* first so the host's
 * settings cannot change the results.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "config.h"

extern char **environ;

static int ncases;

static void clear_numtrust_env(void)
{
    for (;;) {
        char name[256] = "";
        for (char **ep = environ; *ep != NULL; ep++) {
            if (strncmp(*ep, "NUMTRUST_", 9) == 0) {
                size_t n = strcspn(*ep, "=");
                if (n < sizeof(name)) {
                    memcpy(name, *ep, n);
                    name[n] = '\0';
                }
                break;
            }
        }
        if (name[0] == '\0')
            return;
        unsetenv(name);
    }
}

/* Writes text to a new temp file; path receives its name. 0 or -1. */
static int write_temp(const char *text, char path[64])
{
    snprintf(path, 64, "/tmp/nt_test_config_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n <= 0) {
            close(fd);
            unlink(path);
            return -1;
        }
        off += (size_t)n;
    }
    close(fd);
    return 0;
}

/* Runs nt_config_dump into a buffer (through a temp file). */
static int dump_to(const nt_config_t *cfg, nt_buf_t *out)
{
    char path[64];
    if (write_temp("", path) != 0)
        return -1;
    FILE *fp = fopen(path, "r+");
    int rc = -1;
    if (fp == NULL)
        goto out;
    nt_config_dump(cfg, fileno(fp));
    rewind(fp);
    char chunk[4096];
    size_t n;
    rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (nt_buf_append(out, chunk, n) != NT_OK)
            rc = -1;
    fclose(fp);
out:
    unlink(path);
    return rc;
}

static void test_defaults(void)
{
    nt_config_t cfg;
    nt_err_t err;
    int rc = nt_config_load(&cfg, NULL, &err);
    CHECKF(rc == NT_OK, "load defaults: %s", err.msg);
    if (rc != NT_OK)
        return;
    const struct {
        const char *key;
        const char *got;
        const char *want;
    } strs[] = {
        {"log.level", cfg.log_level, "info"},
        {"topics.prefix", cfg.topics_prefix, "numtrust"},
        {"topics.retry_tiers", cfg.topics_retry_tiers, "30s,5m,1h"},
        {"platforms_file", cfg.platforms_file, "platforms.json"},
        {"worker.group_id", cfg.worker_group_id, "numtrust-workers"},
        {"worker.id", cfg.worker_id, ""},
        {"worker.metrics_listen", cfg.worker_metrics_listen, ""},
        {"worker.appeal_marks", cfg.worker_appeal_marks, "harassment,fraud,agency"},
        {"producer.metrics_listen", cfg.producer_metrics_listen, ""},
        {"kafka.bootstrap.servers", nt_config_kafka_get(&cfg, "bootstrap.servers"),
         "127.0.0.1:29092"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(strs); i++, ncases++)
        CHECKF(strs[i].got != NULL && strcmp(strs[i].got, strs[i].want) == 0,
               "default %s = \"%s\", want \"%s\"", strs[i].key,
               strs[i].got ? strs[i].got : "(null)", strs[i].want);
    const struct {
        const char *key;
        long got, want;
    } ints[] = {
        {"pg.connect_timeout_s", cfg.pg_connect_timeout_s, 10},
        {"topics.partitions", cfg.topics_partitions, 12},
        {"topics.replication", cfg.topics_replication, 1},
        {"job.max_bytes", cfg.job_max_bytes, 65536},
        {"job.max_attempts", cfg.job_max_attempts, 5},
        {"worker.max_inflight", cfg.worker_max_inflight, 10000},
        {"worker.min_inflight", cfg.worker_min_inflight, 2000},
        {"worker.batch_max", cfg.worker_batch_max, 500},
        {"worker.batch_linger_ms", cfg.worker_batch_linger_ms, 5},
        {"worker.drain_timeout_ms", cfg.worker_drain_timeout_ms, 10000},
        {"worker.http_max_body", cfg.worker_http_max_body, 1048576},
        {"worker.http_max_conns", cfg.worker_http_max_conns, 4096},
        {"worker.appeal_fast_path", cfg.worker_appeal_fast_path, 1},
        {"producer.interval_s", cfg.producer_interval_s, 60},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(ints); i++, ncases++)
        CHECKF(ints[i].got == ints[i].want, "default %s = %ld, want %ld", ints[i].key, ints[i].got,
               ints[i].want);
    ncases += 3;
    CHECK(cfg.pg_conninfo != NULL && strstr(cfg.pg_conninfo, "dbname=numtrust") != NULL);
    /* empty: found beside the program at run time, never a build machine's path */
    CHECK(cfg.sql_dir != NULL && cfg.sql_dir[0] == '\0');
    CHECK(cfg.file == NULL);
    CHECK(nt_config_kafka_get(&cfg, "linger.ms") == NULL);
    nt_config_free(&cfg);
    nt_config_free(NULL);
}

static void test_file_and_env(void)
{
    static const char text[] =
        "{\n"
        "  \"log\": {\"level\": \"debug\"},\n"
        "  \"pg\": {\"conninfo\": \"host=db dbname=x\", \"connect_timeout_s\": 30},\n"
        "  \"topics\": {\"prefix\": \"t1\", \"partitions\": 24, \"retry_tiers\": \"10s,1m\"},\n"
        "  \"job\": {\"max_attempts\": 7},\n"
        "  \"worker\": {\"max_inflight\": 500, \"batch_max\": 100, \"appeal_fast_path\": false,\n"
        "             \"id\": \"w-1\"},\n"
        "  \"platforms_file\": \"/etc/numtrust/platforms.json\",\n"
        "  \"kafka\": {\"linger.ms\": 7, \"bootstrap.servers\": \"k1:9092,k2:9092\",\n"
        "            \"statistics\": {\"interval.ms\": 1000}}\n"
        "}\n";
    char path[64];
    CHECK_INT(write_temp(text, path), 0);

    /* file only */
    nt_config_t cfg;
    nt_err_t err;
    int rc = nt_config_load(&cfg, path, &err);
    CHECKF(rc == NT_OK, "load %s: %s", path, err.msg);
    if (rc == NT_OK) {
        ncases += 16;
        CHECK_STR(cfg.file, path);
        CHECK_STR(cfg.log_level, "debug");
        CHECK_STR(cfg.pg_conninfo, "host=db dbname=x");
        CHECK_INT(cfg.pg_connect_timeout_s, 30);
        CHECK_STR(cfg.topics_prefix, "t1");
        CHECK_INT(cfg.topics_partitions, 24);
        CHECK_STR(cfg.topics_retry_tiers, "10s,1m");
        CHECK_INT(cfg.job_max_attempts, 7);
        CHECK_INT(cfg.worker_max_inflight, 500);
        CHECK_INT(cfg.worker_batch_max, 100);
        CHECK(!cfg.worker_appeal_fast_path);
        CHECK_STR(cfg.worker_id, "w-1");
        CHECK_STR(cfg.platforms_file, "/etc/numtrust/platforms.json");
        CHECK_STR(nt_config_kafka_get(&cfg, "linger.ms"), "7");
        CHECK_STR(nt_config_kafka_get(&cfg, "bootstrap.servers"), "k1:9092,k2:9092");
        CHECK_STR(nt_config_kafka_get(&cfg, "statistics.interval.ms"), "1000");
        CHECK_INT(cfg.worker_batch_linger_ms, 5); /* untouched keys keep defaults */
        nt_config_free(&cfg);
    }

    /* the environment wins over the file */
    static const struct {
        const char *var, *value;
    } env[] = {
        {"NUMTRUST_WORKER_MAX_INFLIGHT", "700"},
        {"NUMTRUST_LOG_LEVEL", "warn"},
        {"NUMTRUST_WORKER_APPEAL_FAST_PATH", "1"},
        {"NUMTRUST_PLATFORMS_FILE", "/tmp/p.json"},
        {"NUMTRUST_KAFKA_LINGER_MS", "9"},
        {"NUMTRUST_KAFKA_SECURITY_PROTOCOL", "plaintext"},
        {"NUMTRUST_CONFIG", "/ignored/by/the/loader"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(env); i++)
        setenv(env[i].var, env[i].value, 1);
    rc = nt_config_load(&cfg, path, &err);
    CHECKF(rc == NT_OK, "load %s with env: %s", path, err.msg);
    if (rc == NT_OK) {
        ncases += 8;
        CHECK_INT(cfg.worker_max_inflight, 700);
        CHECK_STR(cfg.log_level, "warn");
        CHECK(cfg.worker_appeal_fast_path);
        CHECK_STR(cfg.platforms_file, "/tmp/p.json");
        CHECK_STR(nt_config_kafka_get(&cfg, "linger.ms"), "9");
        CHECK_STR(nt_config_kafka_get(&cfg, "security.protocol"), "plaintext");
        CHECK_STR(nt_config_kafka_get(&cfg, "bootstrap.servers"), "k1:9092,k2:9092");
        CHECK_INT(cfg.worker_batch_max, 100); /* from the file */
        /* one entry per property, even when set twice */
        size_t n = 0;
        for (size_t i = 0; i < cfg.nkafka; i++)
            n += strcmp(cfg.kafka[i].key, "linger.ms") == 0;
        CHECK_INT(n, 1);
        nt_config_free(&cfg);
    }
    clear_numtrust_env();

    /* environment only, no file */
    setenv("NUMTRUST_KAFKA_LINGER_MS", "11", 1);
    rc = nt_config_load(&cfg, NULL, &err);
    CHECKF(rc == NT_OK, "load env only: %s", err.msg);
    if (rc == NT_OK) {
        ncases++;
        CHECK_STR(nt_config_kafka_get(&cfg, "linger.ms"), "11");
        nt_config_free(&cfg);
    }
    clear_numtrust_env();
    unlink(path);
}

/* Loads that must fail: the message names the source, the key and the value. */
static void test_errors(void)
{
    static const struct {
        const char *name;
        const char *file; /* file contents; NULL: no file */
        const char *var, *value;
        const char *want[3]; /* substrings of err.msg; "@" stands for the file path */
    } rows[] = {
        {"unknown key",
         "{\"worker\":{\"max_inflite\":5}}",
         NULL,
         NULL,
         {"@", "worker.max_inflite", NULL}},
        {"unknown top-level key", "{\"colour\":\"red\"}", NULL, NULL, {"@", "colour", NULL}},
        {"unknown section",
         "{\"workers\":{\"max_inflight\":5}}",
         NULL,
         NULL,
         {"@", "workers.max_inflight", NULL}},
        {"int below the minimum",
         "{\"worker\":{\"max_inflight\":0}}",
         NULL,
         NULL,
         {"@", "worker.max_inflight", "0"}},
        {"int above the maximum",
         "{\"worker\":{\"max_inflight\":100001}}",
         NULL,
         NULL,
         {"@", "worker.max_inflight", "100001"}},
        {"int far out of range",
         "{\"job\":{\"max_bytes\":99999999999}}",
         NULL,
         NULL,
         {"@", "job.max_bytes", "99999999999"}},
        {"int not a number",
         "{\"worker\":{\"max_inflight\":\"lots\"}}",
         NULL,
         NULL,
         {"@", "worker.max_inflight", "lots"}},
        {"int with a fraction",
         "{\"worker\":{\"max_inflight\":1.5}}",
         NULL,
         NULL,
         {"@", "worker.max_inflight", "1.5"}},
        {"bool not a bool",
         "{\"worker\":{\"appeal_fast_path\":\"yes\"}}",
         NULL,
         NULL,
         {"@", "worker.appeal_fast_path", "yes"}},
        {"array value",
         "{\"topics\":{\"prefix\":[\"a\"]}}",
         NULL,
         NULL,
         {"@", "topics.prefix", NULL}},
        {"null value", "{\"topics\":{\"prefix\":null}}", NULL, NULL, {"@", "topics.prefix", NULL}},
        {"not an object", "[1,2]", NULL, NULL, {"@", NULL, NULL}},
        {"not JSON", "{\"log\":", NULL, NULL, {"@", NULL, NULL}},
        {"empty file", "", NULL, NULL, {"@", NULL, NULL}},
        {"bad log level",
         "{\"log\":{\"level\":\"verbose\"}}",
         NULL,
         NULL,
         {"log.level", "verbose", NULL}},
        {"bad topic prefix",
         "{\"topics\":{\"prefix\":\"num trust\"}}",
         NULL,
         NULL,
         {"topics.prefix", NULL, NULL}},
        {"batch larger than in-flight",
         "{\"worker\":{\"max_inflight\":10,\"batch_max\":20}}",
         NULL,
         NULL,
         {"worker.batch_max", "20", NULL}},
        {"unknown NUMTRUST_ variable", NULL, "NUMTRUST_BOGUS", "1", {"NUMTRUST_BOGUS", NULL, NULL}},
        {"misspelt NUMTRUST_ variable",
         NULL,
         "NUMTRUST_WORKER_MAXINFLIGHT",
         "5",
         {"NUMTRUST_WORKER_MAXINFLIGHT", NULL, NULL}},
        {"env int out of bounds",
         NULL,
         "NUMTRUST_JOB_MAX_ATTEMPTS",
         "0",
         {"NUMTRUST_JOB_MAX_ATTEMPTS", "job.max_attempts", "0"}},
        {"env int not a number",
         NULL,
         "NUMTRUST_TOPICS_PARTITIONS",
         "12x",
         {"NUMTRUST_TOPICS_PARTITIONS", "topics.partitions", "12x"}},
        {"env bool not a bool",
         NULL,
         "NUMTRUST_WORKER_APPEAL_FAST_PATH",
         "maybe",
         {"NUMTRUST_WORKER_APPEAL_FAST_PATH", "worker.appeal_fast_path", "maybe"}},
        {"env beats a good file with a bad value",
         "{\"worker\":{\"max_inflight\":50}}",
         "NUMTRUST_WORKER_MAX_INFLIGHT",
         "-5",
         {"NUMTRUST_WORKER_MAX_INFLIGHT", "worker.max_inflight", "-5"}},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        char path[64] = "";
        if (rows[i].file != NULL && write_temp(rows[i].file, path) != 0) {
            CHECKF(0, "%s: cannot write a temp file", rows[i].name);
            continue;
        }
        if (rows[i].var != NULL)
            setenv(rows[i].var, rows[i].value, 1);
        nt_config_t cfg;
        nt_err_t err;
        nt_err_clear(&err);
        int rc = nt_config_load(&cfg, rows[i].file ? path : NULL, &err);
        CHECKF(rc == NT_EINVAL, "%s: rc %d, want NT_EINVAL", rows[i].name, rc);
        if (rc == NT_OK)
            nt_config_free(&cfg);
        for (int k = 0; k < 3 && rows[i].want[k] != NULL; k++) {
            const char *w = strcmp(rows[i].want[k], "@") == 0 ? path : rows[i].want[k];
            CHECK_CONTAINS(rows[i].name, err.msg, w);
        }
        clear_numtrust_env();
        if (path[0] != '\0')
            unlink(path);
    }

    /* a file that does not exist */
    nt_config_t cfg;
    nt_err_t err;
    ncases++;
    CHECK_INT(nt_config_load(&cfg, "/nonexistent/numtrust.json", &err), NT_EINVAL);
    CHECK_CONTAINS("missing file", err.msg, "/nonexistent/numtrust.json");
}

static void test_set(void)
{
    nt_config_t cfg;
    nt_err_t err;
    if (nt_config_load(&cfg, NULL, &err) != NT_OK) {
        CHECKF(0, "load: %s", err.msg);
        return;
    }
    static const struct {
        const char *key, *value;
        int rc;
        int want_bool; /* -1: not a bool row */
    } rows[] = {
        {"worker.appeal_fast_path", "true", NT_OK, 1},
        {"worker.appeal_fast_path", "false", NT_OK, 0},
        {"worker.appeal_fast_path", "1", NT_OK, 1},
        {"worker.appeal_fast_path", "0", NT_OK, 0},
        {"worker.appeal_fast_path", "yes", NT_EINVAL, -1},
        {"worker.appeal_fast_path", "", NT_EINVAL, -1},
        {"worker.appeal_fast_path", "2", NT_EINVAL, -1},
        {"worker.max_inflight", "1", NT_OK, -1},
        {"worker.max_inflight", "100000", NT_OK, -1},
        {"worker.max_inflight", "100001", NT_EINVAL, -1},
        {"worker.max_inflight", "", NT_EINVAL, -1},
        {"worker.max_inflight", "5 ", NT_EINVAL, -1},
        {"worker.max_inflight", "0x10", NT_EINVAL, -1},
        {"worker.max_inflight", "99999999999999999999", NT_EINVAL, -1},
        {"worker.nope", "1", NT_EINVAL, -1},
        {"kafka.acks", "all", NT_OK, -1},
        {"kafka.", "x", NT_EINVAL, -1},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_err_clear(&err);
        int rc = nt_config_set(&cfg, rows[i].key, rows[i].value, "test", &err);
        CHECKF(rc == rows[i].rc, "set %s=\"%s\": rc %d (%s), want %d", rows[i].key, rows[i].value,
               rc, err.msg, rows[i].rc);
        if (rc == NT_OK && rows[i].want_bool >= 0)
            CHECKF(cfg.worker_appeal_fast_path == (rows[i].want_bool == 1), "set %s=\"%s\": got %d",
                   rows[i].key, rows[i].value, cfg.worker_appeal_fast_path);
        if (rc != NT_OK && rows[i].key[0] != 'k') {
            CHECK_CONTAINS(rows[i].key, err.msg, "test");
            CHECK_CONTAINS(rows[i].key, err.msg, rows[i].key);
        }
    }
    ncases += 2;
    CHECK_STR(nt_config_kafka_get(&cfg, "acks"), "all");
    CHECK_INT(cfg.worker_max_inflight, 100000);
    nt_config_free(&cfg);
}

/* nt_config_dump: every key, secrets as ****, whatever form the password
 * takes in a libpq connection string. */
static void test_dump(void)
{
    static const struct {
        const char *conninfo;
        const char *secret; /* must not appear */
        const char *keep;   /* must appear */
    } rows[] = {
        {"host=db user=u password=s3cretpw dbname=x", "s3cretpw", "host=db"},
        {"password=s3cretpw host=db", "s3cretpw", "host=db"},
        {"host=db password='s3cret tail9' dbname=x", "tail9", "host=db"},
        {"host=db password = s3cretpw dbname=x", "s3cretpw", "host=db"},
        {"host=db password='it\\'s s3cret' dbname=x", "s3cret", "host=db"},
        {"postgresql://u:s3cretpw@db:5432/x", "s3cretpw", "db:5432"},
        {"postgres://u:s3cretpw@db/x?sslmode=disable", "s3cretpw", "sslmode=disable"},
        {"postgresql://u@db/x?password=s3cretpw", "s3cretpw", "u@db"},
        {"host=db sslcert=c sslkey=k sslpassword=k3ypass dbname=x", "k3ypass", "sslcert=c"},
        {"postgresql://u@db/x?sslmode=verify-full&sslpassword=k3ypass", "k3ypass", "verify-full"},
        {"host=db dbname=x", NULL, "host=db dbname=x"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_config_t cfg;
        nt_err_t err;
        nt_buf_t out;
        char name[96];
        snprintf(name, sizeof(name), "dump of pg.conninfo \"%s\"", rows[i].conninfo);
        setenv("NUMTRUST_PG_CONNINFO", rows[i].conninfo, 1);
        setenv("NUMTRUST_KAFKA_SASL_PASSWORD", "kafkapw123", 1);
        setenv("NUMTRUST_KAFKA_SASL_OAUTHBEARER_CONFIG",
               "principal=svc extension_traceId=1 scope=x token=oauthsecret77", 1);
        int rc = nt_config_load(&cfg, NULL, &err);
        clear_numtrust_env();
        CHECKF(rc == NT_OK, "%s: load: %s", name, err.msg);
        if (rc != NT_OK)
            continue;
        nt_buf_init(&out, 0);
        CHECK_INT(dump_to(&cfg, &out), 0);
        if (rows[i].secret != NULL)
            CHECK_LACKS(name, out.data, rows[i].secret);
        CHECK_CONTAINS(name, out.data, rows[i].keep);
        CHECK_LACKS(name, out.data, "kafkapw123");
        CHECK_CONTAINS(name, out.data, "kafka.sasl.password = ****");
        CHECK_LACKS(name, out.data, "oauthsecret77");
        CHECK_CONTAINS(name, out.data, "kafka.sasl.oauthbearer.config = ****");
        CHECK_CONTAINS(name, out.data, "worker.max_inflight = 10000\n");
        CHECK_CONTAINS(name, out.data, "worker.appeal_fast_path = true\n");
        CHECK_CONTAINS(name, out.data, "kafka.bootstrap.servers = 127.0.0.1:29092\n");
        nt_buf_free(&out);
        nt_config_free(&cfg);
    }
}

static void test_doc(void)
{
    char path[64];
    nt_buf_t out;
    nt_buf_init(&out, 0);
    if (write_temp("", path) != 0) {
        CHECKF(0, "temp file");
        return;
    }
    FILE *fp = fopen(path, "r+");
    if (fp != NULL) {
        nt_config_doc(fileno(fp));
        rewind(fp);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
            if (nt_buf_append(&out, chunk, n) != NT_OK)
                break;
        fclose(fp);
    }
    unlink(path);
    static const char *const want[] = {"`worker.max_inflight`", "`NUMTRUST_WORKER_MAX_INFLIGHT`",
                                       "`pg.conninfo`",         "`NUMTRUST_KAFKA_<PROPERTY>`",
                                       "`topics.retry_tiers`",  "`platforms_file`"};
    for (size_t i = 0; i < NT_ARRAY_LEN(want); i++, ncases++)
        CHECK_CONTAINS("nt_config_doc", out.data, want[i]);
    nt_buf_free(&out);
}

int main(void)
{
    clear_numtrust_env();
    test_defaults();
    test_file_and_env();
    test_errors();
    test_set();
    test_dump();
    test_doc();
    printf("test_config: %d cases\n", ncases);
    CHECK_DONE();
}
