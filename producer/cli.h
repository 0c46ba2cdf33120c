/*
 * cli.h — what every numtrust-producer subcommand shares: the loaded config,
 * platform adapters (loaded on demand), and small argument helpers.
 */
#ifndef NT_PRODUCER_CLI_H
#define NT_PRODUCER_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "err.h"
#include "pg.h"
#include "platforms.h"

typedef struct cli_s {
    nt_config_t cfg;
    nt_platforms_t *platforms; /* NULL until cli_platforms() */
    volatile sig_atomic_t *stop;
    /* Called between batches of long work (may be NULL): the daemon serves
     * its /healthz and /metrics from here while a pass runs. */
    void (*tick)(void *arg);
    void *tick_arg;
    /* The reconciler's sink, shared by every kind of every pass (one Kafka
     * producer for the daemon's life); NULL: each enqueue makes its own. */
    struct sink_s *sink;
} cli_t;

/* Loads the platform adapters once. NULL with a message on stderr. */
const nt_platforms_t *cli_platforms(cli_t *cli);

/* Connects to PostgreSQL (pg.conninfo). NULL with a message on stderr. */
nt_pg_t *cli_pg(cli_t *cli);

/* Argument helpers: true when argv[*i] is `name` and a value follows; the
 * value is stored and *i advanced. */
bool cli_opt(int argc, char **argv, int *i, const char *name, const char **value);

/* Prints "numtrust-producer <cmd>: <message>" to stderr and returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) NT_PRINTF(2, 3);

/* Enqueues one kind of work ("check", "check-due", "check-feedback",
 * "verify", "tag", "tag-status", "appeal", "appeal-refile", "appeal-status",
 * "renewal") with
 * optional filters (NULL fields: any). quiet: print a line only when
 * something was produced. *stats (may be NULL) receives the counts, skipped
 * rows by reason. Returns 0, or non-zero after printing why. */
typedef struct enqueue_filter_s {
    const char *number;   /* one E.164 number */
    const char *platform; /* platform id */
    const char *tenant;   /* tenant id */
    const char *prefix;   /* numbers starting with this */
    const char *period;   /* NULL: the kind's default period */
    const char *limit;    /* most jobs, as text */
} enqueue_filter_t;

typedef struct enqueue_stats_s {
    uint64_t selected; /* rows the selection returned to be done (not the skipped ones) */
    uint64_t produced; /* jobs handed to Kafka */
    uint64_t known;    /* jobs the ledger already knew (not produced again) */
    uint64_t skipped;  /* rows skipped on purpose, by reason below */
    struct {
        char reason[40]; /* "rejected_label", "uncertified_expired", ... */
        uint64_t count;
    } reasons[8];
    size_t nreasons;
} enqueue_stats_t;

int enqueue_run_stats(cli_t *cli, const char *kind, const enqueue_filter_t *filter, bool force,
                      bool quiet, enqueue_stats_t *stats);

/* The same; *produced (may be NULL) receives the count of jobs produced. */
int enqueue_run(cli_t *cli, const char *kind, const enqueue_filter_t *filter, bool force,
                bool quiet, uint64_t *produced);

/* Checks --number, --platform, --prefix, --limit values; prints the usage
 * error of cmd and returns 2 (1 when the platforms file cannot be read), or
 * 0 when they are fine. */
int enqueue_filter_check(cli_t *cli, const char *cmd, const char *number, const char *platform,
                         const char *prefix, const char *limit);

/* Writes the PostgreSQL array literal of the platform ids that have
 * operation op (every platform when op < 0) into out. 0 or an error. */
int enqueue_platforms_with(cli_t *cli, int op, char *out, size_t outsz);

/* Imports numbers from a CSV stream (the columns of `import --help`): every
 * row validated, good rows loaded with COPY in one transaction. The CLI's
 * import and the API's bulk import share it. */
typedef struct import_opts_s {
    const char *name;        /* the stream's name in messages */
    bool dry;                /* validate only */
    const char *only_tenant; /* non-NULL: rows of other tenants, and numbers another tenant
                              * manages, are rejected */
    /* rejected rows (line > 0) and fatal problems (line 0); NULL: stderr */
    void (*reject)(void *arg, long line, const char *msg);
    void *reject_arg;
} import_opts_t;

typedef struct import_result_s {
    long good, bad, regs; /* rows imported, rows rejected, registrations */
    double secs;
} import_result_t;

/* 0 (rows may have been rejected: result->bad), or 1 after a fatal problem
 * (nothing imported). */
int import_numbers(cli_t *cli, FILE *fp, const import_opts_t *o, import_result_t *result);

int cmd_migrate(cli_t *cli, int argc, char **argv);
int cmd_topics(cli_t *cli, int argc, char **argv);
int cmd_import(cli_t *cli, int argc, char **argv);
int cmd_enqueue(cli_t *cli, int argc, char **argv);
int cmd_report(cli_t *cli, int argc, char **argv);
int cmd_dead(cli_t *cli, int argc, char **argv);
int cmd_run(cli_t *cli, int argc, char **argv);
int cmd_clock(cli_t *cli, int argc, char **argv);
int cmd_actions(cli_t *cli, int argc, char **argv);
int cmd_serve(cli_t *cli, int argc, char **argv);
int cmd_token(cli_t *cli, int argc, char **argv);
int cmd_api(cli_t *cli, int argc, char **argv);

#endif
