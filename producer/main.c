/*
 * main.c — numtrust-producer: the admin CLI and scheduler. Parses global
 * options, loads the config, and runs one subcommand from the table below.
 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "history.h"
#include "retry.h"
#include "log.h"
#include "sla.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

typedef struct command_s {
    const char *name;
    int (*run)(cli_t *cli, int argc, char **argv);
    const char *summary;
} command_t;

static const command_t commands[] = {
    {"migrate", cmd_migrate, "apply the schema migrations in sql_dir (under an advisory lock)"},
    {"topics", cmd_topics, "create the Kafka topics that are missing"},
    {"import", cmd_import, "import numbers from a CSV file (--numbers FILE.csv)"},
    {"enqueue", cmd_enqueue, "put check, tag, appeal or appeal-status jobs on Kafka"},
    {"report", cmd_report, "print the fleet's state: checks, marks, tags, appeals, jobs"},
    {"dead", cmd_dead, "list or replay dead-lettered jobs"},
    {"retry", cmd_retry, "run failed and dead jobs again as new attempts (after a fix)"},
    {"run", cmd_run, "the reconciler daemon: enqueue due work every producer.interval_s"},
    {"clock", cmd_clock, "show or move numtrust time (nt_now()), for tests and demos"},
    {"actions", cmd_actions, "the manual queue: list, show, submit and close action items"},
    {"serve", cmd_serve, "the control plane: HTTP JSON API, feedback intake, /metrics"},
    {"token", cmd_token, "create, list or revoke API tokens (admin, tenant, feedback)"},
    {"numbers", cmd_api, "numbers: list, get, add, import, update, disable, enable, offboard, ..."},
    {"schedules", cmd_api, "label schedules: list, add, delete, import (CSV, iCalendar)"},
    {"marks", cmd_api, "marks: list"},
    {"appeals", cmd_api, "appeals: list (numbers appeal NUMBER files one now)"},
    {"action-items", cmd_actions, "the same as actions (its former name; kept for scripts)"},
    {"feedback", cmd_api, "callee feedback: post (as a tenant's website), list"},
    {"reports", cmd_api, "a report section as JSON, or the HTML report (reports get html)"},
    {"whoami", cmd_api, "the API's identity check; as the CLI: admin"},
    {"policy", cmd_policy, "show, set or apply the policies per tenant (targets, budget, ...)"},
    {"sla", cmd_sla, "service levels: a pass by hand, per-tenant summary, breaches, trends"},
    {"alerts", cmd_alerts, "alerts and their webhook endpoints, deliveries and retries"},
    {"quarantine", cmd_quarantine, "burned numbers put to rest: list, add, release"},
    {"costs", cmd_costs, "monthly cost per tenant, scenario and platform against the budget"},
    {"history", cmd_history,
     "check history: monthly partitions, retention, rollups (show, maintain)"},
};

static void usage(FILE *fp)
{
    fputs("usage: numtrust-producer [--config FILE] COMMAND [ARGS] [--help] [--version]\n\n"
          "Admin CLI and scheduler of numtrust.\n\ncommands:\n",
          fp);
    for (size_t i = 0; i < NT_ARRAY_LEN(commands); i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n`numtrust-producer COMMAND --help` describes a command.\n"
          "  --config FILE    JSON config file (default: $NUMTRUST_CONFIG, else none)\n"
          "  --print-config   print the effective configuration (secrets masked)\n"
          "  --config-doc     print the configuration reference as a Markdown table\n"
          "  --version        print the version and exit\n"
          "Every key can be set by environment: NUMTRUST_<KEY> (docs/configuration.md).\n\n"
          "Exit status: 0 done; 1 a failure (PostgreSQL, Kafka, a file); 2 a usage or\n"
          "configuration error; 3 input rejected in part or whole (import rows, an API\n"
          "operation's 4xx, an unknown token).\n",
          fp);
}

const nt_platforms_t *cli_platforms(cli_t *cli)
{
    nt_err_t err;
    if (cli->platforms != NULL)
        return cli->platforms;
    nt_err_clear(&err);
    cli->platforms = nt_platforms_load(cli->cfg.platforms_file, &err);
    if (cli->platforms == NULL)
        fprintf(stderr, "numtrust-producer: %s\n", err.msg);
    return cli->platforms;
}

nt_pg_t *cli_pg(cli_t *cli)
{
    nt_err_t err;
    nt_err_clear(&err);
    nt_pg_t *pg = nt_pg_connect(cli->cfg.pg_conninfo, cli->cfg.pg_connect_timeout_s, &err);
    if (pg == NULL)
        fprintf(stderr, "numtrust-producer: %s\n", err.msg);
    return pg;
}

bool cli_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
    if (strcmp(argv[*i], name) != 0)
        return false;
    if (*i + 1 >= argc) {
        fprintf(stderr, "numtrust-producer: option %s needs a value\n", name);
        *value = NULL;
        return true;
    }
    *value = argv[++*i];
    return true;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "numtrust-producer %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see numtrust-producer %s --help)\n", cmd);
    return 2;
}

int main(int argc, char **argv)
{
    const char *file = getenv("NUMTRUST_CONFIG");
    bool print = false;
    int i;
    cli_t cli;
    nt_err_t err;

    memset(&cli, 0, sizeof(cli));
    cli.stop = &stop_flag;
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},         {"config", required_argument, NULL, 'c'},
        {"print-config", no_argument, NULL, 'p'}, {"config-doc", no_argument, NULL, 'd'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    int ch;
    /* "+": options end at the command; the command parses its own */
    while ((ch = getopt_long(argc, argv, "+hc:", opts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            usage(stdout);
            return 0;
        case 'c':
            file = optarg;
            break;
        case 'p':
            print = true;
            break;
        case 'd':
            nt_config_doc(STDOUT_FILENO);
            return 0;
        case 'V':
            printf("numtrust-producer %s\n", NT_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    i = optind;
    nt_err_clear(&err);
    if (nt_config_load(&cli.cfg, file, &err) != NT_OK) {
        fprintf(stderr, "numtrust-producer: config: %s\n", err.msg);
        return 2;
    }
    if (print) {
        nt_config_dump(&cli.cfg, STDOUT_FILENO);
        nt_config_free(&cli.cfg);
        return 0;
    }
    if (i >= argc) {
        usage(stderr);
        nt_config_free(&cli.cfg);
        return 2;
    }
    nt_log_level_t level = NT_LOG_INFO;
    if (nt_log_level_parse(cli.cfg.log_level, &level) != NT_OK)
        level = NT_LOG_INFO;
    nt_log_init("numtrust-producer", level);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = 2;
    const command_t *cmd = NULL;
    for (size_t c = 0; c < NT_ARRAY_LEN(commands); c++)
        if (strcmp(argv[i], commands[c].name) == 0)
            cmd = &commands[c];
    if (cmd == NULL) {
        fprintf(stderr, "numtrust-producer: unknown command \"%s\"\n", argv[i]);
        usage(stderr);
    } else {
        rc = cmd->run(&cli, argc - i, argv + i);
    }
    nt_platforms_free(cli.platforms);
    nt_config_free(&cli.cfg);
    return rc;
}
