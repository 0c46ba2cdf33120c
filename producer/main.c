/*
 * main.c — numtrust-producer: the admin CLI and scheduler. Parses global
 * options, loads the config, and runs one subcommand from the table below.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "retry.h"
#include "log.h"

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
};

static void usage(FILE *fp)
{
    fputs("usage: numtrust-producer [--config FILE] COMMAND [ARGS] [--help]\n\n"
          "Admin CLI and scheduler of numtrust.\n\ncommands:\n",
          fp);
    for (size_t i = 0; i < NT_ARRAY_LEN(commands); i++)
        fprintf(fp, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fputs("\n`numtrust-producer COMMAND --help` describes a command.\n"
          "  --config FILE    JSON config file (default: $NUMTRUST_CONFIG, else none)\n"
          "  --print-config   print the effective configuration (secrets masked)\n"
          "  --config-doc     print the configuration reference as a Markdown table\n"
          "Every key can be set by environment: NUMTRUST_<KEY> (docs/configuration.md).\n",
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
    int i = 1;
    cli_t cli;
    nt_err_t err;

    memset(&cli, 0, sizeof(cli));
    cli.stop = &stop_flag;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            file = argv[++i];
        } else if (strcmp(argv[i], "--print-config") == 0) {
            print = true;
        } else if (strcmp(argv[i], "--config-doc") == 0) {
            nt_config_doc(STDOUT_FILENO);
            return 0;
        } else {
            fprintf(stderr, "numtrust-producer: unknown option \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
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
