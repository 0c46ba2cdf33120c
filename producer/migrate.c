/*
 * migrate.c — `numtrust-producer migrate` and `topics`.
 *
 * Migrations are the files NNN_name.sql in sql_dir, applied in order, each in
 * its own transaction together with its row in schema_migrations, while a
 * session advisory lock keeps concurrent migrators out. An applied file whose
 * checksum changed is an error: history is never rewritten in place.
 *
 * A number reserved for one piece of work may hold several files, lettered
 * NNNa_name.sql, NNNb_name.sql: they apply after NNN_ and before NNN+1, and
 * are recorded as version 100000 + 26 * NNN + letter (a = 0), so plain
 * versions (1 to 99999) keep the numbers they always had.
 */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "hex.h"
#include "kafka.h"

#define MIGRATE_LOCK_KEY "7420114551" /* pg_advisory_lock key of migrations */
#define MAX_MIGRATIONS   1000

typedef struct mfile_s {
    int version; /* as recorded in schema_migrations */
    int order;   /* NNN * 27 + (letter: 1 + letter index, else 0) */
    char name[256];
} mfile_t;

/* The migrations' directory: sql_dir, or share/numtrust/sql beside the
 * program's bin/ directory (the install layout, which the build tree copies). */
static const char *sql_dir(const cli_t *cli, char *buf, size_t bufsz)
{
    if (cli->cfg.sql_dir[0] != '\0')
        return cli->cfg.sql_dir;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        snprintf(buf, bufsz, "share/numtrust/sql");
        return buf;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash != NULL)
        *slash = '\0';
    snprintf(buf, bufsz, "%s/../share/numtrust/sql", exe);
    return buf;
}

static int mfile_cmp(const void *a, const void *b)
{
    const mfile_t *x = a, *y = b;
    return x->order - y->order;
}

static int read_file(const char *path, nt_buf_t *b)
{
    char chunk[8192];
    size_t n;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NT_EIO;
    int rc = NT_OK;
    while (rc == NT_OK && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        rc = nt_buf_append(b, chunk, n);
    fclose(fp);
    return rc;
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    nt_hex_encode(md, 32, out);
}

int cmd_migrate(cli_t *cli, int argc, char **argv)
{
    char dirbuf[4200];
    const char *dir = sql_dir(cli, dirbuf, sizeof(dirbuf));
    mfile_t *files = NULL;
    size_t nfiles = 0;
    nt_pg_t *pg = NULL;
    DIR *d = NULL;
    nt_buf_t sql;
    nt_err_t err;
    int rc = 1, applied = 0;

    nt_buf_init(&sql, 64 * 1024 * 1024);
    nt_err_clear(&err);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: numtrust-producer migrate [--dir DIR]\n\n"
                   "Applies the migrations NNN_name.sql found in DIR (default: sql_dir, now %s)\n"
                   "that are not yet recorded in schema_migrations, in order, each in one\n"
                   "transaction, under an advisory lock. Safe to run from several places.\n"
                   "Lettered files (005a_x.sql, 005b_y.sql) apply after 005_ and before 006_.\n",
                   dir);
            return 0;
        }
        if (cli_opt(argc, argv, &i, "--dir", &dir)) {
            if (dir == NULL)
                return 2;
            continue;
        }
        return cli_usage_error("migrate", "unknown argument \"%s\"", argv[i]);
    }
    d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "numtrust-producer migrate: sql_dir %s: %s\n", dir, strerror(errno));
        goto out;
    }
    files = calloc(MAX_MIGRATIONS, sizeof(*files));
    if (files == NULL)
        goto out;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 8 || strcmp(de->d_name + len - 4, ".sql") != 0)
            continue;
        char *end = NULL;
        long v = strtol(de->d_name, &end, 10);
        int letter = -1;
        if (end != de->d_name && *end >= 'a' && *end <= 'z')
            letter = *end++ - 'a';
        if (end == de->d_name || *end != '_' || v <= 0 || v > 99999) {
            fprintf(stderr,
                    "numtrust-producer migrate: %s/%s: name must be NNN_name.sql or "
                    "NNNa_name.sql\n",
                    dir, de->d_name);
            goto out;
        }
        if (nfiles == MAX_MIGRATIONS || len >= sizeof(files[0].name))
            goto out;
        files[nfiles].version = letter < 0 ? (int)v : 100000 + 26 * (int)v + letter;
        files[nfiles].order = (int)v * 27 + letter + 1;
        memcpy(files[nfiles].name, de->d_name, len + 1);
        nfiles++;
    }
    qsort(files, nfiles, sizeof(*files), mfile_cmp);
    for (size_t i = 1; i < nfiles; i++) {
        if (files[i].order == files[i - 1].order) {
            fprintf(stderr, "numtrust-producer migrate: %s and %s share version %d\n",
                    files[i - 1].name, files[i].name, files[i].version);
            goto out;
        }
    }
    if ((pg = cli_pg(cli)) == NULL)
        goto out;
    const char *lock[] = {MIGRATE_LOCK_KEY};
    if (nt_pg_run(pg, "SELECT pg_advisory_lock($1::bigint)", 1, lock, &err) != NT_OK ||
        nt_pg_run(pg,
                  "CREATE TABLE IF NOT EXISTS schema_migrations ("
                  " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                  " applied_at timestamptz NOT NULL DEFAULT now())",
                  0, NULL, &err) != NT_OK) {
        fprintf(stderr, "numtrust-producer migrate: %s\n", err.msg);
        goto out;
    }
    for (size_t i = 0; i < nfiles; i++) {
        char path[4096], sum[65], ver[16];
        snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
        nt_buf_reset(&sql);
        if (read_file(path, &sql) != NT_OK) {
            fprintf(stderr, "numtrust-producer migrate: cannot read %s\n", path);
            goto out;
        }
        sha256_hex(sql.data ? sql.data : "", sql.len, sum);
        snprintf(ver, sizeof(ver), "%d", files[i].version);
        const char *p1[] = {ver};
        PGresult *res =
            nt_pg_exec(pg, "SELECT checksum, name FROM schema_migrations WHERE version = $1::int",
                       1, p1, &err);
        if (res == NULL) {
            fprintf(stderr, "numtrust-producer migrate: %s\n", err.msg);
            goto out;
        }
        if (PQntuples(res) == 1) {
            bool same = strcmp(PQgetvalue(res, 0, 0), sum) == 0;
            PQclear(res);
            if (!same) {
                fprintf(stderr,
                        "numtrust-producer migrate: %s was changed after it was applied "
                        "(checksum differs); add a new migration instead\n",
                        files[i].name);
                goto out;
            }
            continue;
        }
        PQclear(res);
        /* the file may hold many statements: simple query protocol */
        PGconn *conn = nt_pg_conn(pg);
        PGresult *r = PQexec(conn, "BEGIN");
        PQclear(r);
        r = PQexec(conn, sql.data ? sql.data : "");
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
            fprintf(stderr, "numtrust-producer migrate: %s: %s", files[i].name,
                    PQresultErrorMessage(r));
            PQclear(r);
            PQclear(PQexec(conn, "ROLLBACK"));
            goto out;
        }
        PQclear(r);
        const char *p3[] = {ver, files[i].name, sum};
        if (nt_pg_run(
                pg,
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1::int, $2, $3)",
                3, p3, &err) != NT_OK ||
            nt_pg_run(pg, "COMMIT", 0, NULL, &err) != NT_OK) {
            fprintf(stderr, "numtrust-producer migrate: %s: %s\n", files[i].name, err.msg);
            PQclear(PQexec(conn, "ROLLBACK"));
            goto out;
        }
        printf("applied %s\n", files[i].name);
        applied++;
    }
    printf("schema up to date: %zu migrations, %d applied now\n", nfiles, applied);
    rc = 0;
out:
    if (d != NULL)
        closedir(d);
    free(files);
    nt_buf_free(&sql);
    nt_pg_free(pg); /* closing the session releases the advisory lock */
    return rc;
}

int cmd_topics(cli_t *cli, int argc, char **argv)
{
    nt_kafka_topics_t topics;
    nt_err_t err;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: numtrust-producer topics\n\n"
                   "Creates the job topics, the retry tiers and the dead-letter topic with\n"
                   "topics.partitions partitions and topics.replication replicas; existing\n"
                   "topics are left as they are.\n");
            return 0;
        }
        return cli_usage_error("topics", "unknown argument \"%s\"", argv[i]);
    }
    nt_err_clear(&err);
    if (nt_kafka_topics_init(&topics, &cli->cfg, &err) != NT_OK ||
        nt_kafka_create_topics(&cli->cfg, &topics, true, &err) != NT_OK) {
        fprintf(stderr, "numtrust-producer topics: %s\n", err.msg);
        return 1;
    }
    return 0;
}
