/*
 * main.c — numtrust-platform-sim: parses the command line, loads the config,
 * builds the pipeline and the HTTP server, and runs the loop until SIGTERM or
 * SIGINT. Shutdown order: stop the loop, close the server (and every
 * connection), free the pipeline and model, free the loop.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "log.h"
#include "loop.h"
#include "simconf.h"
#include "simsrv.h"

#define PROG "numtrust-platform-sim"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROG " [--listen HOST:PORT] [--config FILE] [--seed N]\n"
               "       [--clock-speed X] [--log-level debug|info|warn|error] [--version] [--help]\n"
               "\n"
               "A stand-in for caller-ID display platforms: dialects A (HMAC-signed),\n"
               "B (bearer token), C (batch aggregator) and D (XML, decisions by signed\n"
               "callbacks) under /p/{scope}/{a|b|c|d}/..., and an admin API under\n"
               "/admin/. See docs/simulator.md.\n"
               "\n"
               "  --listen HOST:PORT  IPv4 address and port (default 127.0.0.1:28080; port 0 =\n"
               "                      any free port, logged at start)\n"
               "  --config FILE       JSON config file (all keys optional)\n"
               "  --seed N            seed of every random choice (default 42)\n"
               "  --clock-speed X     simulated seconds per real second (default 1)\n"
               "  --clock-start T     simulated time at start: RFC 3339, or now (default\n"
               "                      2026-01-01T00:00:00Z)\n"
               "  --log-level L       debug, info, warn or error (default info)\n"
               "  --version           print the version and exit\n"
               "  --help              this text\n"
               "\n"
               "Flags override the config file; NT_SIM_HMAC_KEY, NT_SIM_HMAC_SECRET,\n"
               "NT_SIM_BEARER_TOKEN and NT_SIM_CALLBACK_SECRET override its credentials,\n"
               "NT_SIM_CALLBACK_URL its callbacks.url. SIGTERM or SIGINT stops it.\n"
               "\n"
               "Exit status: 0 stopped by SIGTERM or SIGINT; 1 a bad config or a failure to\n"
               "start (the port in use); 2 a usage error.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"config", required_argument, NULL, 'c'},
        {"seed", required_argument, NULL, 's'},
        {"clock-speed", required_argument, NULL, 'k'},
        {"clock-start", required_argument, NULL, 't'},
        {"log-level", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    /* flag -> config key, applied after the file */
    static const struct {
        int opt;
        const char *flag;
        const char *key;
    } flag_keys[] = {
        {'l', "--listen", "listen"},           {'s', "--seed", "seed"},
        {'k', "--clock-speed", "clock.speed"}, {'t', "--clock-start", "clock.start"},
        {'v', "--log-level", "log_level"},
    };
    const char *flag_values[NT_ARRAY_LEN(flag_keys)] = {NULL};
    const char *config_file = NULL;
    nt_simconf_t *conf = NULL;
    nt_simsrv_t *srv = NULL;
    nt_loop_t *loop = NULL;
    nt_httpd_t *httpd = NULL;
    nt_err_t err;
    int status = 1;
    int opt;

    nt_err_clear(&err);
    nt_log_init(PROG, NT_LOG_INFO); /* re-initialised with the configured level below */
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 0;
        }
        if (opt == 'V') {
            printf(PROG " %s\n", NT_VERSION);
            return 0;
        }
        if (opt == 'c') {
            config_file = optarg;
            continue;
        }
        bool known = false;
        for (size_t i = 0; i < NT_ARRAY_LEN(flag_keys); i++) {
            if (flag_keys[i].opt == opt) {
                flag_values[i] = optarg;
                known = true;
            }
        }
        if (!known) {
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument \"%s\" (see --help)\n", argv[optind]);
        return 2;
    }

    conf = malloc(sizeof(*conf));
    if (conf == NULL) {
        nt_err_set(&err, NT_ENOMEM, false, "out of memory");
        goto fail;
    }
    nt_simconf_defaults(conf);
    if (config_file != NULL && nt_simconf_load_file(conf, config_file, &err) != NT_OK)
        goto fail;
    if (nt_simconf_load_env(conf, &err) != NT_OK)
        goto fail;
    for (size_t i = 0; i < NT_ARRAY_LEN(flag_keys); i++) {
        if (flag_values[i] != NULL && nt_simconf_set(conf, flag_keys[i].key, flag_values[i],
                                                     flag_keys[i].flag, &err) != NT_OK)
            goto fail;
    }

    nt_log_level_t level = NT_LOG_INFO;
    if (nt_log_level_parse(conf->log_level, &level) != NT_OK)
        level = NT_LOG_INFO;
    nt_log_init(PROG, level);

    char host[64];
    int port = 0;
    if (nt_simconf_parse_listen(conf->listen, host, sizeof(host), &port) != NT_OK) {
        nt_err_set(&err, NT_EINVAL, false, "listen: \"%s\" is not HOST:PORT", conf->listen);
        goto fail;
    }
    srv = nt_simsrv_new(conf, &err);
    if (srv == NULL)
        goto fail;
    loop = nt_loop_new(&err);
    if (loop == NULL)
        goto fail;
    nt_httpd_opts_t hopts = {
        .host = host,
        .port = port,
        .max_header_bytes = (size_t)conf->max_header_bytes,
        .max_body_bytes = (size_t)conf->max_body_bytes,
        .max_conns = conf->max_conns,
        .idle_timeout_ms = conf->idle_timeout_s * 1000,
    };
    httpd = nt_httpd_new(loop, &hopts, nt_simsrv_handle, srv, &err);
    if (httpd == NULL)
        goto fail;
    nt_simsrv_attach(srv, loop, httpd);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    NT_INFO("listening on %s:%d (seed %llu, clock speed %g)", host, nt_httpd_port(httpd),
            (unsigned long long)conf->seed, conf->clock_speed);
    while (!stop_flag) {
        if (nt_loop_run_once(loop, 100) < 0) {
            NT_ERROR("event loop failed");
            goto out;
        }
    }
    NT_INFO("stopping on signal");
    status = 0;
    goto out;
fail:
    NT_ERROR("%s", err.msg);
out:
    nt_httpd_free(httpd);
    nt_simsrv_free(srv);
    nt_loop_free(loop);
    free(conf);
    return status;
}
