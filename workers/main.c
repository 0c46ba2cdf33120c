/*
 * main.c — numtrust-worker: parse arguments, load config and platform
 * adapters, run the worker until SIGTERM/SIGINT, exit 0 after a clean drain.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <curl/curl.h>

#include "adapter.h"
#include "config.h"
#include "log.h"
#include "worker.h"

static volatile sig_atomic_t stop_flag;

/* Every job in the window may hold a platform connection: raise the soft
 * descriptor limit to the hard one (distributions default the soft limit to
 * 1024) and say so when even the hard limit is below what the window needs. */
static void raise_fd_limit(const nt_config_t *cfg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t want = (rlim_t)cfg->worker_max_inflight + 256;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
        NT_WARN("open files limit %llu is below worker.max_inflight + 256 = %llu: calls may "
                "fail for want of descriptors and be retried; raise it (ulimit -n, LimitNOFILE, "
                "ulimits in compose)",
                (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* The shutdown watchdog: if draining, committing and leaving the group take
 * far longer than worker.drain_timeout_ms (a broker that does not answer the
 * final commit, say), exit anyway. Nothing is lost: offsets not committed
 * are redelivered to the next owner, whose claims skip finished jobs. */
static void on_watchdog(int sig)
{
    (void)sig;
    static const char msg[] = "{\"level\":\"error\",\"prog\":\"numtrust-worker\","
                              "\"msg\":\"shutdown watchdog: drain took too long; exiting\"}\n";
    ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)n;
    _exit(3);
}

static void usage(FILE *fp)
{
    fputs("usage: numtrust-worker [--config FILE] [--print-config] [--version] [--help]\n"
          "\n"
          "Consumes check, tag-update and appeal jobs from Kafka, calls the display\n"
          "platforms through the adapters in platforms_file and writes the results to\n"
          "PostgreSQL. Run as many as there are partitions; SIGTERM drains and exits 0.\n"
          "\n"
          "  --config FILE    JSON config file (default: $NUMTRUST_CONFIG, else none)\n"
          "  --print-config   print the effective configuration (secrets masked) and exit\n"
          "  --version        print the version and exit\n"
          "  --help           this text\n"
          "\n"
          "Every key can be set by environment: NUMTRUST_<KEY> (see docs/configuration.md).\n"
          "\n"
          "Exit status: 0 stopped by SIGTERM/SIGINT after a clean drain; 1 a runtime\n"
          "failure (Kafka, PostgreSQL); 2 a usage, configuration or platforms_file error;\n"
          "3 the shutdown watchdog ended a drain that hung.\n",
          fp);
}

int main(int argc, char **argv)
{
    const char *file = getenv("NUMTRUST_CONFIG");
    bool print = false;
    nt_config_t cfg;
    nt_err_t err;
    nt_platforms_t *platforms = NULL;
    nt_worker_t *w = NULL;
    int rc = 1;

    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"config", required_argument, NULL, 'c'},
        {"print-config", no_argument, NULL, 'p'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "hc:", opts, NULL)) != -1) {
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
        case 'V':
            printf("numtrust-worker %s\n", NT_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "numtrust-worker: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    nt_err_clear(&err);
    if (nt_config_load(&cfg, file, &err) != NT_OK) {
        fprintf(stderr, "numtrust-worker: config: %s\n", err.msg);
        return 2;
    }
    if (print) {
        nt_config_dump(&cfg, STDOUT_FILENO);
        nt_config_free(&cfg);
        return 0;
    }
    nt_log_level_t level = NT_LOG_INFO;
    if (nt_log_level_parse(cfg.log_level, &level) != NT_OK)
        level = NT_LOG_INFO;
    nt_log_init("numtrust-worker", level);
    raise_fd_limit(&cfg);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_watchdog;
    sigaction(SIGALRM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    platforms = nt_platforms_load(cfg.platforms_file, &err);
    if (platforms == NULL) {
        NT_ERROR("%s", err.msg);
        rc = 2;
        goto out;
    }
    w = nt_worker_new(&cfg, platforms, &stop_flag, &err);
    if (w == NULL) {
        NT_ERROR("cannot start: %s", err.msg);
        goto out;
    }
    rc = nt_worker_run(w) == NT_OK ? 0 : 1;
    NT_INFO("stopped (exit %d)", rc);
out:
    nt_worker_free(w);
    nt_platforms_free(platforms);
    nt_config_free(&cfg);
    curl_global_cleanup();
    return rc;
}
