/*
 * sla.h — policies, service levels, alerts, quarantine and costs in the
 * producer (issue 10; docs/policies.md).
 *
 * The reconciler daemon (`numtrust-producer run`) calls sla_pass() at the
 * start of every pass and drains the alert outbox (alerts_drain()) between
 * passes; the commands below manage and report the same from the command
 * line. The tables and views behind them (migrations 006, 006a, 006b) are
 * what the HTTP API reads: effective_policies, tenant_status, mark_rates,
 * sla_clocks / sla_breaches / sla_month, trust_trends, alerts,
 * alert_endpoints, alert_deliveries, quarantined_numbers, cost_monthly,
 * tenant_budgets, nt_plan_fees(month).
 */
#ifndef NT_PRODUCER_SLA_H
#define NT_PRODUCER_SLA_H

#include <stdint.h>

#include "buf.h"
#include "cli.h"
#include "loop.h"
#include "policy.h"

/* ---- the pass (sla.c) ---- */

typedef enum {
    SLA_PRICES = 0,    /* platform prices copied from platforms.json */
    SLA_MARK_RATES,    /* mark-rate rows written */
    SLA_OVER_TARGET,   /* tenants newly over their target (alerts) */
    SLA_CLOCKS_OPENED, /* new service-level clocks */
    SLA_CLOCKS_DONE,   /* clocks whose work was done (filed, decided, shown) */
    SLA_BREACHED,      /* clocks newly breached (alerts) */
    SLA_NEAR_BREACH,   /* clocks newly near breach (alerts) */
    SLA_TRENDS,        /* trust trends fitted */
    SLA_RISKY,         /* numbers to check more often */
    SLA_QUARANTINED,   /* numbers put in quarantine (alerts) */
    SLA_RELEASED,      /* numbers released (alerts) */
    SLA_CERT_EXPIRING, /* certifications about to expire (alerts) */
} sla_step_t;

#define SLA_NSTEPS 12

typedef struct sla_stats_s {
    uint64_t counts[SLA_NSTEPS];
    int64_t ms;
} sla_stats_t;

const char *sla_step_name(sla_step_t step);

/* One pass over PostgreSQL: prices, mark rates and the tenants' status,
 * service-level clocks (opened, done, met or breached, with their
 * evidence), trust trends, risky numbers, quarantine, and the alerts these
 * raise. Each step is one statement (its own transaction); a step that
 * fails stops the pass. 0, or a negative code with err set. */
int sla_pass(cli_t *cli, nt_pg_t *pg, sla_stats_t *stats, nt_err_t *err) NT_MUSTCHECK;

/* The business metrics (mark rates, clocks, alerts, deliveries, quarantine,
 * cost against budget) as Prometheus text, read from PostgreSQL; the
 * daemon refreshes them after each pass. out is reset first. */
int sla_metrics_text(nt_pg_t *pg, nt_buf_t *out, nt_err_t *err) NT_MUSTCHECK;

/* ---- policies in PostgreSQL (policies.c) ---- */

/* Loads every layer of table policies as a document (the defaults first).
 * Free with nt_policy_doc_free(). 0 or a negative code. */
int policy_store_load(nt_pg_t *pg, nt_policy_doc_t *doc, nt_err_t *err) NT_MUSTCHECK;

/* Replaces every layer with the document's (the defaults row: the built-in
 * values overlaid with the document's "defaults"), in one transaction;
 * scenarios must exist, tenants not yet imported are named in report.
 * report (may be NULL) gets a line of what changed. by names the source
 * ("file policies.json"). dry_run: compare only. */
int policy_store_apply(nt_pg_t *pg, const nt_policy_doc_t *doc, const char *by, bool dry_run,
                       nt_buf_t *report, nt_err_t *err) NT_MUSTCHECK;

/* Sets the fields set->set[f] and clears those clear[f] (may be NULL) of
 * one layer ("*" for every tenant or scenario); a cleared default returns to
 * its built-in value, an emptied layer is removed. NT_EINVAL for a
 * tenant-wide field in a per-scenario layer. */
int policy_store_set(nt_pg_t *pg, const char *tenant, const char *scenario,
                     const nt_policy_layer_t *set, const bool *clear, const char *by,
                     nt_err_t *err) NT_MUSTCHECK;

/* The resolved policy of a tenant and scenario (NULL: every one), with the
 * origin of each field, as effective_policies resolves it. */
int policy_store_resolve(nt_pg_t *pg, const char *tenant, const char *scenario,
                         nt_policy_layer_t *out, nt_policy_origin_t origin[NT_POLICY_NFIELDS],
                         nt_err_t *err) NT_MUSTCHECK;

/* ---- costs (costs.c) ---- */

/* Copies every platform's prices from the registry into platform_prices.
 * *n (may be NULL) receives the rows written. */
int costs_sync_prices(const nt_platforms_t *ps, nt_pg_t *pg, uint64_t *n,
                      nt_err_t *err) NT_MUSTCHECK;

/* ---- alerts (alerts.c) ---- */

typedef struct alerts_s alerts_t;

typedef struct alerts_stats_s {
    uint64_t sent, delivered, failed, dead;
} alerts_stats_t;

/* The outbox drainer of the daemon, on its loop (libcurl through
 * common/http.c), with a PostgreSQL connection of its own.
 * @returns a new drainer; free with alerts_free(). NULL with err set. */
alerts_t *alerts_new(cli_t *cli, nt_loop_t *loop, nt_err_t *err);
void alerts_free(alerts_t *a);

/* One round: claims up to alerts.batch due deliveries (FOR UPDATE SKIP
 * LOCKED, so several daemons share the outbox), signs and POSTs them in
 * parallel, records each outcome (delivered, or the next attempt after a
 * backoff, or dead after alerts.max_attempts) and commits. The loop runs
 * meanwhile. *stats (may be NULL) is added to. Returns the deliveries
 * attempted (0: none was due), or a negative code with err set. */
int alerts_drain(alerts_t *a, alerts_stats_t *stats, nt_err_t *err) NT_MUSTCHECK;

/* Delivery attempts by result since start, as Prometheus text. */
int alerts_metrics_text(const alerts_t *a, nt_buf_t *out) NT_MUSTCHECK;

/* True when e is an alert event (mark_new, sla_breach, ..., test). */
bool alerts_is_event(const char *e);

/* ---- shared by the commands and the API ---- */

/* Quarantine by hand ($1 number, $2 note): one row (the quarantine's id)
 * when the number is managed and not in quarantine, with the alert. */
extern const char sla_sql_quarantine_add[];

/* Release by hand ($1 number, $2 note or NULL): one row (the quarantine's
 * id) when it was in quarantine, with the alert. */
extern const char sla_sql_quarantine_release[];

/* Prints a result as an aligned table under title (NULL: no title); CJK
 * characters count two columns. */
void sla_print_table(const char *title, PGresult *res);

/* Runs sql and prints it as a table; 0, or 1 after printing the error. */
int sla_query_print(nt_pg_t *pg, const char *cmd, const char *title, const char *sql, int nparams,
                    const char *const *params);

/* ---- commands ---- */

int cmd_policy(cli_t *cli, int argc, char **argv);
int cmd_sla(cli_t *cli, int argc, char **argv);
int cmd_alerts(cli_t *cli, int argc, char **argv);
int cmd_quarantine(cli_t *cli, int argc, char **argv);
int cmd_costs(cli_t *cli, int argc, char **argv);

#endif
