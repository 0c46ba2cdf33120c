/*
 * policies.c — policies in PostgreSQL and `numtrust-producer policy`
 * (docs/policies.md, Policies).
 *
 * The layers live in table policies (migration 006), one row per (tenant or
 * '*', scenario or '*'), a NULL column inheriting. The functions below load
 * them as a policy document (common/policy.h), replace them from one (a
 * file kept in version control), change single fields, and resolve a
 * tenant and scenario the way the effective_policies view does; the command
 * line and the HTTP API share them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "sla.h"

/* The column of field f as text that nt_policy_parse_value() reads. */
static const char *column_text(int f, char *buf, size_t bufsz)
{
    const nt_policy_field_t *pf = &nt_policy_fields()[f];
    switch (pf->kind) {
    case NT_PF_DURATION:
    case NT_PF_PERIOD:
        snprintf(buf, bufsz, "extract(epoch FROM %s)::bigint::text || 's'", pf->name);
        break;
    case NT_PF_MARKS:
        snprintf(buf, bufsz, "array_to_string(%s, ',')", pf->name);
        break;
    default:
        snprintf(buf, bufsz, "%s::text", pf->name);
    }
    return buf;
}

/* The SQL value of parameter $n for field f. */
static const char *param_value(int f, int n, char *buf, size_t bufsz)
{
    switch (nt_policy_fields()[f].kind) {
    case NT_PF_DURATION:
    case NT_PF_PERIOD:
        snprintf(buf, bufsz, "justify_hours($%d::bigint * interval '1 second')", n);
        break;
    case NT_PF_MARKS:
        snprintf(buf, bufsz, "string_to_array($%d::text, ',')", n);
        break;
    case NT_PF_SCORE:
    case NT_PF_COUNT:
        snprintf(buf, bufsz, "$%d::smallint", n);
        break;
    case NT_PF_CURRENCY:
        snprintf(buf, bufsz, "$%d::text", n);
        break;
    default:
        snprintf(buf, bufsz, "$%d::numeric", n);
    }
    return buf;
}

int policy_store_load(nt_pg_t *pg, nt_policy_doc_t *doc, nt_err_t *err)
{
    nt_buf_t sql;
    char col[160];
    int rc = NT_OK;
    PGresult *res = NULL;

    memset(doc, 0, sizeof(*doc));
    nt_buf_init(&sql, 0);
    rc = nt_buf_puts(&sql, "SELECT tenant_id, scenario_id");
    for (int f = 0; rc == NT_OK && f < NT_POLICY_NFIELDS; f++)
        rc = nt_buf_printf(&sql, ", %s", column_text(f, col, sizeof(col)));
    if (rc == NT_OK)
        rc = nt_buf_puts(&sql, " FROM policies ORDER BY tenant_id <> '*', tenant_id,"
                               " scenario_id <> '*', scenario_id");
    if (rc != NT_OK) {
        nt_err_set(err, rc, false, "out of memory");
        goto out;
    }
    if ((res = nt_pg_exec(pg, sql.data, 0, NULL, err)) == NULL) {
        rc = err->code != 0 ? err->code : NT_ERR;
        goto out;
    }
    doc->entries = calloc((size_t)PQntuples(res) + 1, sizeof(*doc->entries));
    if (doc->entries == NULL) {
        rc = nt_err_set(err, NT_ENOMEM, false, "out of memory");
        goto out;
    }
    for (int r = 0; rc == NT_OK && r < PQntuples(res); r++) {
        nt_policy_entry_t *e = &doc->entries[doc->n++];
        nt_buf_copy_str(e->tenant, sizeof(e->tenant), PQgetvalue(res, r, 0));
        nt_buf_copy_str(e->scenario, sizeof(e->scenario), PQgetvalue(res, r, 1));
        for (int f = 0; rc == NT_OK && f < NT_POLICY_NFIELDS; f++) {
            if (PQgetisnull(res, r, 2 + f))
                continue;
            rc = nt_policy_parse_value(f, PQgetvalue(res, r, 2 + f), e->layer.val[f],
                                       sizeof(e->layer.val[f]), err);
            e->layer.set[f] = rc == NT_OK;
        }
    }
    if (rc == NT_OK && (doc->n == 0 || strcmp(doc->entries[0].tenant, "*") != 0 ||
                        strcmp(doc->entries[0].scenario, "*") != 0))
        rc = nt_err_set(err, NT_ERR, false, "table policies has no defaults row ('*', '*')");
out:
    PQclear(res);
    nt_buf_free(&sql);
    if (rc != NT_OK)
        nt_policy_doc_free(doc);
    return rc;
}

/* Writes one layer's fields (set[f]) and clears those in clear[f] (NULL:
 * none) of (tenant, scenario). Other layers are upserted. The defaults row
 * ('*', '*') always exists (migration 006 seeds it) and is updated in place:
 * an INSERT of a few of its fields would be checked against the
 * complete-defaults constraint before ON CONFLICT turned it into an update,
 * so `policy set FIELD=V` without --tenant and --scenario always failed. */
static int store_layer(nt_pg_t *pg, const char *tenant, const char *scenario,
                       const nt_policy_layer_t *l, const bool *clear, const char *by, nt_err_t *err)
{
    nt_buf_t sql, upd;
    const char *params[3 + NT_POLICY_NFIELDS];
    char val[96];
    int n = 3, rc;
    bool defaults = strcmp(tenant, "*") == 0 && strcmp(scenario, "*") == 0;
    const nt_policy_field_t *fs = nt_policy_fields();

    nt_buf_init(&sql, 0);
    nt_buf_init(&upd, 0);
    params[0] = tenant;
    params[1] = scenario;
    params[2] = by;
    rc = nt_buf_puts(&sql, "INSERT INTO policies AS p (tenant_id, scenario_id, updated_by");
    for (int f = 0; rc == NT_OK && f < NT_POLICY_NFIELDS; f++)
        if (l->set[f] || (defaults && clear != NULL && clear[f] && fs[f].def != NULL))
            rc = nt_buf_printf(&sql, ", %s", fs[f].name);
    if (rc == NT_OK)
        rc = nt_buf_puts(&sql, ") VALUES ($1, $2, $3");
    if (rc == NT_OK)
        rc = nt_buf_puts(&upd, defaults ? "UPDATE policies AS p SET updated_at = now(),"
                                          " updated_by = $3"
                                        : " ON CONFLICT (tenant_id, scenario_id) DO UPDATE SET"
                                          " updated_at = now(), updated_by = EXCLUDED.updated_by");
    for (int f = 0; rc == NT_OK && f < NT_POLICY_NFIELDS; f++) {
        bool reset = clear != NULL && clear[f];
        if (l->set[f] || (defaults && reset && fs[f].def != NULL)) {
            /* a cleared default goes back to the built-in value */
            params[n] = l->set[f] ? l->val[f] : fs[f].def;
            n++;
            rc = nt_buf_printf(&sql, ", %s", param_value(f, n, val, sizeof(val)));
            if (rc == NT_OK)
                rc = defaults ? nt_buf_printf(&upd, ", %s = %s", fs[f].name, val)
                              : nt_buf_printf(&upd, ", %s = EXCLUDED.%s", fs[f].name, fs[f].name);
        } else if (reset) {
            rc = nt_buf_printf(&upd, ", %s = NULL", fs[f].name);
        }
    }
    if (rc == NT_OK && defaults)
        rc = nt_buf_puts(&upd, " WHERE p.tenant_id = $1 AND p.scenario_id = $2");
    else if (rc == NT_OK)
        rc = nt_buf_printf(&sql, ")%s", upd.data);
    if (rc != NT_OK) {
        rc = nt_err_set(err, rc, false, "out of memory");
    } else {
        PGresult *res = nt_pg_exec(pg, defaults ? upd.data : sql.data, n, params, err);
        if (res == NULL)
            rc = err->code != 0 ? err->code : NT_ERR;
        else if (defaults && strcmp(PQcmdTuples(res), "1") != 0)
            rc = nt_err_set(err, NT_ERR, false, "table policies has no defaults row ('*', '*')");
        PQclear(res);
    }
    nt_buf_free(&sql);
    nt_buf_free(&upd);
    return rc;
}

int policy_store_set(nt_pg_t *pg, const char *tenant, const char *scenario,
                     const nt_policy_layer_t *set, const bool *clear, const char *by, nt_err_t *err)
{
    const nt_policy_field_t *fs = nt_policy_fields();
    for (int f = 0; f < NT_POLICY_NFIELDS; f++)
        if ((set->set[f] || (clear != NULL && clear[f])) && fs[f].tenant_wide &&
            strcmp(scenario, "*") != 0)
            return nt_err_set(err, NT_EINVAL, false, "%s is tenant-wide: set it without --scenario",
                              fs[f].name);
    int rc = store_layer(pg, tenant, scenario, set, clear, by, err);
    if (rc == NT_OK)
        rc = nt_pg_run(pg,
                       "DELETE FROM policies p WHERE (p.tenant_id, p.scenario_id) <> ('*', '*')"
                       " AND num_nulls(p.max_mark_rate, p.rate_marks, p.appeal_marks,"
                       " p.appeal_file_within, p.appeal_decide_within, p.qualification_within,"
                       " p.campaign_lead, p.check_every, p.mark_check_every, p.risk_check_every,"
                       " p.risk_mark_window, p.risk_trust_decay, p.trust_threshold,"
                       " p.near_breach, p.monthly_budget, p.budget_currency,"
                       " p.quarantine_fraud_platforms, p.quarantine_cooldown,"
                       " p.cert_warn_ahead) = 19",
                       0, NULL, err);
    return rc;
}

/* Checks the scenario ids of a document against the database; tenants
 * that are not (yet) imported are named in *unknown_tenants. */
static int check_doc(nt_pg_t *pg, const nt_policy_doc_t *doc, nt_buf_t *warn, nt_err_t *err)
{
    for (size_t i = 0; i < doc->n; i++) {
        const nt_policy_entry_t *e = &doc->entries[i];
        const char *p[] = {e->scenario, e->tenant};
        PGresult *res = nt_pg_exec(pg,
                                   "SELECT $1 = '*' OR EXISTS (SELECT 1 FROM scenarios WHERE id = "
                                   "$1), $2 = '*' OR EXISTS (SELECT 1 FROM tenants WHERE id = $2)",
                                   2, p, err);
        if (res == NULL)
            return err->code != 0 ? err->code : NT_ERR;
        bool scenario_ok = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        bool tenant_ok = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
        PQclear(res);
        if (!scenario_ok)
            return nt_err_set(err, NT_EINVAL, false, "scenario \"%s\" does not exist%s%s",
                              e->scenario, strcmp(e->tenant, "*") ? " (tenant " : "",
                              strcmp(e->tenant, "*") ? e->tenant : "");
        if (!tenant_ok && warn != NULL && strcmp(e->scenario, "*") == 0 &&
            nt_buf_printf(warn, "tenant %s is not imported yet; its policy applies once it is\n",
                          e->tenant) != NT_OK)
            return nt_err_set(err, NT_ENOMEM, false, "out of memory");
    }
    return NT_OK;
}

static const nt_policy_entry_t *find_entry(const nt_policy_doc_t *d, const char *t, const char *s)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->entries[i].tenant, t) == 0 && strcmp(d->entries[i].scenario, s) == 0)
            return &d->entries[i];
    return NULL;
}

static bool same_layer(const nt_policy_layer_t *a, const nt_policy_layer_t *b)
{
    for (int f = 0; f < NT_POLICY_NFIELDS; f++)
        if (a->set[f] != b->set[f] || (a->set[f] && strcmp(a->val[f], b->val[f]) != 0))
            return false;
    return true;
}

int policy_store_apply(nt_pg_t *pg, const nt_policy_doc_t *doc, const char *by, bool dry_run,
                       nt_buf_t *report, nt_err_t *err)
{
    nt_policy_doc_t old = {0};
    nt_policy_doc_t want = {0};
    const nt_policy_field_t *fs = nt_policy_fields();
    int rc = NT_OK;
    bool in_tx = false;
    size_t added = 0, changed = 0, removed = 0, same = 0;

    /* the defaults row: built-in defaults, then the document's */
    want.entries = calloc(doc->n + 1, sizeof(*want.entries));
    if (want.entries == NULL)
        return nt_err_set(err, NT_ENOMEM, false, "out of memory");
    nt_policy_entry_t *d = &want.entries[want.n++];
    snprintf(d->tenant, sizeof(d->tenant), "*");
    snprintf(d->scenario, sizeof(d->scenario), "*");
    for (int f = 0; f < NT_POLICY_NFIELDS; f++)
        if (fs[f].def != NULL) {
            d->layer.set[f] = true;
            nt_buf_copy_str(d->layer.val[f], sizeof(d->layer.val[f]), fs[f].def);
        }
    for (size_t i = 0; i < doc->n; i++) {
        const nt_policy_entry_t *e = &doc->entries[i];
        nt_policy_entry_t *w = NULL;
        if (strcmp(e->tenant, "*") == 0 && strcmp(e->scenario, "*") == 0) {
            w = d;
        } else {
            w = &want.entries[want.n++];
            *w = *e;
            continue;
        }
        for (int f = 0; f < NT_POLICY_NFIELDS; f++)
            if (e->layer.set[f]) {
                w->layer.set[f] = true;
                nt_buf_copy_str(w->layer.val[f], sizeof(w->layer.val[f]), e->layer.val[f]);
            }
    }
    if ((rc = check_doc(pg, &want, report, err)) != NT_OK ||
        (rc = policy_store_load(pg, &old, err)) != NT_OK)
        goto out;
    for (size_t i = 0; i < want.n; i++) {
        const nt_policy_entry_t *o =
            find_entry(&old, want.entries[i].tenant, want.entries[i].scenario);
        if (o == NULL)
            added++;
        else if (same_layer(&o->layer, &want.entries[i].layer))
            same++;
        else
            changed++;
    }
    for (size_t i = 0; i < old.n; i++)
        if (find_entry(&want, old.entries[i].tenant, old.entries[i].scenario) == NULL)
            removed++;
    if (report != NULL &&
        nt_buf_printf(report, "%zu layers: %zu added, %zu changed, %zu removed, %zu unchanged%s\n",
                      want.n, added, changed, removed, same,
                      dry_run ? " (dry run)" : "") != NT_OK) {
        rc = nt_err_set(err, NT_ENOMEM, false, "out of memory");
        goto out;
    }
    if (dry_run)
        goto out;
    if ((rc = nt_pg_run(pg, "BEGIN", 0, NULL, err)) != NT_OK)
        goto out;
    in_tx = true;
    if ((rc = nt_pg_run(pg, "DELETE FROM policies WHERE (tenant_id, scenario_id) <> ('*', '*')", 0,
                        NULL, err)) != NT_OK)
        goto out;
    for (size_t i = 0; rc == NT_OK && i < want.n; i++) {
        const nt_policy_entry_t *e = &want.entries[i];
        bool clear[NT_POLICY_NFIELDS];
        for (int f = 0; f < NT_POLICY_NFIELDS; f++)
            clear[f] = !e->layer.set[f]; /* the defaults row: every field written */
        rc = store_layer(pg, e->tenant, e->scenario, &e->layer, clear, by, err);
    }
    if (rc == NT_OK)
        rc = nt_pg_run(pg, "COMMIT", 0, NULL, err);
    in_tx = rc != NT_OK;
out:
    if (in_tx) {
        nt_err_t rerr;
        nt_err_clear(&rerr);
        (void)!nt_pg_run(pg, "ROLLBACK", 0, NULL, &rerr);
    }
    nt_policy_doc_free(&old);
    nt_policy_doc_free(&want);
    return rc;
}

int policy_store_resolve(nt_pg_t *pg, const char *tenant, const char *scenario,
                         nt_policy_layer_t *out, nt_policy_origin_t origin[NT_POLICY_NFIELDS],
                         nt_err_t *err)
{
    nt_policy_doc_t doc;
    int rc = policy_store_load(pg, &doc, err);
    if (rc != NT_OK)
        return rc;
    const char *t = tenant != NULL ? tenant : "*";
    const char *s = scenario != NULL ? scenario : "*";
    const nt_policy_entry_t *ts = strcmp(t, "*") && strcmp(s, "*") ? find_entry(&doc, t, s) : NULL;
    const nt_policy_entry_t *tn = strcmp(t, "*") ? find_entry(&doc, t, "*") : NULL;
    const nt_policy_entry_t *sc = strcmp(s, "*") ? find_entry(&doc, "*", s) : NULL;
    const nt_policy_entry_t *g = find_entry(&doc, "*", "*");
    const nt_policy_layer_t *layers[NT_POLICY_NLAYERS] = {
        ts ? &ts->layer : NULL, tn ? &tn->layer : NULL, sc ? &sc->layer : NULL,
        g ? &g->layer : NULL};
    nt_policy_resolve(layers, out, origin);
    nt_policy_doc_free(&doc);
    return NT_OK;
}

/* ---- the command ---- */

static void policy_usage(FILE *fp)
{
    const nt_policy_field_t *fs = nt_policy_fields();
    fputs("usage: numtrust-producer policy show [--tenant T] [--scenario S]\n"
          "       numtrust-producer policy set [--tenant T] [--scenario S] FIELD=VALUE...\n"
          "       numtrust-producer policy unset [--tenant T] [--scenario S] FIELD...\n"
          "       numtrust-producer policy apply FILE [--dry-run]\n"
          "       numtrust-producer policy export\n\n"
          "Policies per tenant (docs/policies.md). A field is looked up in the layer of the\n"
          "tenant and scenario, then the tenant's, then the scenario's, then the defaults\n"
          "(the article's targets). `show` prints the resolved fields and where each comes\n"
          "from; `set`/`unset` change one layer (no --tenant: every tenant; no --scenario:\n"
          "every scenario); `apply` replaces every layer with those of a policy file kept\n"
          "in version control (JSON: {\"defaults\": {...}, \"scenarios\": {S: {...}},\n"
          "\"tenants\": {T: {..., \"scenarios\": {S: {...}}}}}); `export` prints the layers\n"
          "in that form. Durations: 12h, 7d, 1d12h; shares: 3% or 0.03.\n\nfields:\n",
          fp);
    for (int f = 0; f < NT_POLICY_NFIELDS; f++) {
        char def[NT_POLICY_VAL_MAX];
        if (fs[f].def != NULL)
            nt_policy_format(f, fs[f].def, def, sizeof(def));
        fprintf(fp, "  %-27s %s%s (default %s)\n", fs[f].name, fs[f].help,
                fs[f].tenant_wide ? "; tenant-wide" : "",
                fs[f].def != NULL ? def : "the scenario's cycle");
    }
    fputs("Exit status: 0, 1 on a database error, 2 on a usage error or a bad value.\n", fp);
}

static int read_all(const char *path, nt_buf_t *b)
{
    char chunk[8192];
    size_t n;
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (fp == NULL)
        return NT_EIO;
    int rc = NT_OK;
    while (rc == NT_OK && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        rc = b->len + n > 4 * 1024 * 1024 ? NT_ETOOBIG : nt_buf_append(b, chunk, n);
    if (fp != stdin)
        fclose(fp);
    return rc;
}

static int policy_show(nt_pg_t *pg, const char *tenant, const char *scenario)
{
    nt_policy_layer_t out;
    nt_policy_origin_t origin[NT_POLICY_NFIELDS];
    nt_err_t err;
    nt_err_clear(&err);
    if (policy_store_resolve(pg, tenant, scenario, &out, origin, &err) != NT_OK) {
        fprintf(stderr, "numtrust-producer policy show: %s\n", err.msg);
        return 1;
    }
    printf("policy of tenant %s, scenario %s\n", tenant ? tenant : "* (every tenant)",
           scenario ? scenario : "* (every scenario)");
    for (int f = 0; f < NT_POLICY_NFIELDS; f++) {
        char human[NT_POLICY_VAL_MAX];
        if (out.set[f])
            nt_policy_format(f, out.val[f], human, sizeof(human));
        else
            snprintf(human, sizeof(human), "(the scenario's cycle)");
        printf("  %-27s %-24s %s\n", nt_policy_fields()[f].name, human,
               nt_policy_origin_name(origin[f]));
    }
    return 0;
}

int cmd_policy(cli_t *cli, int argc, char **argv)
{
    const char *sub = NULL, *tenant = NULL, *scenario = NULL, *file = NULL;
    const char *args[NT_POLICY_NFIELDS * 2];
    size_t nargs = 0;
    bool dry = false;
    nt_err_t err;
    int rc = 1;
    nt_policy_layer_t set;
    bool clear[NT_POLICY_NFIELDS];

    memset(&set, 0, sizeof(set));
    memset(clear, 0, sizeof(clear));
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--help") == 0) {
            policy_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            dry = true;
        } else if (cli_opt(argc, argv, &i, "--tenant", &v)) {
            if ((tenant = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--scenario", &v)) {
            if ((scenario = v) == NULL)
                return 2;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("policy", "unknown option \"%s\"", argv[i]);
        } else if (sub == NULL) {
            sub = argv[i];
        } else if (nargs < NT_ARRAY_LEN(args)) {
            args[nargs++] = argv[i];
        } else {
            return cli_usage_error("policy", "too many arguments");
        }
    }
    if (sub == NULL)
        return cli_usage_error("policy", "which one? show, set, unset, apply or export");
    if (tenant != NULL && !nt_job_is_tenant_id(tenant))
        return cli_usage_error("policy", "--tenant \"%s\" is not a tenant id", tenant);
    if (scenario != NULL && !nt_job_is_tenant_id(scenario))
        return cli_usage_error("policy", "--scenario \"%s\" is not a scenario id", scenario);
    if (strcmp(sub, "set") == 0 || strcmp(sub, "unset") == 0) {
        bool is_set = strcmp(sub, "set") == 0;
        if (nargs == 0)
            return cli_usage_error("policy", "%s what? give %s", sub,
                                   is_set ? "FIELD=VALUE ..." : "FIELD ...");
        for (size_t k = 0; k < nargs; k++) {
            char name[64];
            const char *eq = strchr(args[k], '=');
            if (is_set != (eq != NULL))
                return cli_usage_error("policy", "\"%s\": %s", args[k],
                                       is_set ? "want FIELD=VALUE" : "want a field name");
            size_t len = eq ? (size_t)(eq - args[k]) : strlen(args[k]);
            snprintf(name, sizeof(name), "%.*s", (int)(len < 63 ? len : 63), args[k]);
            int f = nt_policy_field_index(name);
            if (f < 0)
                return cli_usage_error("policy", "\"%s\" is not a policy field", name);
            nt_err_clear(&err);
            if (is_set &&
                nt_policy_parse_value(f, eq + 1, set.val[f], sizeof(set.val[f]), &err) != NT_OK)
                return cli_usage_error("policy", "%s", err.msg);
            set.set[f] = is_set;
            clear[f] = !is_set;
        }
    } else if (strcmp(sub, "apply") == 0) {
        if (nargs != 1)
            return cli_usage_error("policy", "apply FILE (one file; - for stdin)");
        file = args[0];
        if (tenant != NULL || scenario != NULL)
            return cli_usage_error("policy", "apply replaces every layer: no --tenant/--scenario");
    } else if (strcmp(sub, "show") != 0 && strcmp(sub, "export") != 0) {
        return cli_usage_error("policy", "unknown subcommand \"%s\"", sub);
    } else if (nargs > 0) {
        return cli_usage_error("policy", "unexpected argument \"%s\"", args[0]);
    }

    nt_policy_doc_t doc = {0};
    nt_buf_t text;
    nt_buf_init(&text, 0);
    nt_err_clear(&err);
    if (file != NULL) {
        /* a bad file is a usage error, before anything connects */
        int frc = read_all(file, &text);
        if (frc != NT_OK) {
            fprintf(stderr, "numtrust-producer policy apply: %s: %s\n", file,
                    frc == NT_ETOOBIG ? "larger than 4 MiB" : strerror(errno));
            nt_buf_free(&text);
            return 1;
        }
        if (nt_policy_doc_parse(text.data ? text.data : "", text.len, file, &doc, &err) != NT_OK) {
            fprintf(stderr, "numtrust-producer policy apply: %s\n", err.msg);
            nt_buf_free(&text);
            return 2;
        }
    }
    nt_pg_t *pg = cli_pg(cli);
    if (pg == NULL)
        goto out;
    if (strcmp(sub, "show") == 0) {
        rc = policy_show(pg, tenant, scenario);
    } else if (strcmp(sub, "export") == 0) {
        nt_policy_doc_t cur;
        if (policy_store_load(pg, &cur, &err) == NT_OK) {
            /* the defaults row only where it differs from the built-in values */
            nt_policy_layer_t *g = &cur.entries[0].layer;
            for (int f = 0; f < NT_POLICY_NFIELDS; f++) {
                const char *def = nt_policy_fields()[f].def;
                if (g->set[f] && def != NULL && strcmp(g->val[f], def) == 0)
                    g->set[f] = false;
            }
            nt_buf_reset(&text);
            if (nt_policy_doc_render(&cur, &text) == NT_OK) {
                fwrite(text.data, 1, text.len, stdout);
                rc = 0;
            }
            nt_policy_doc_free(&cur);
        }
    } else if (strcmp(sub, "apply") == 0) {
        nt_buf_t report;
        char by[300];
        nt_buf_init(&report, 0);
        snprintf(by, sizeof(by), "file %s", file);
        if (policy_store_apply(pg, &doc, by, dry, &report, &err) == NT_OK)
            rc = 0;
        if (report.len > 0)
            fwrite(report.data, 1, report.len, stdout);
        nt_buf_free(&report);
        if (rc == 0 && !dry)
            printf("applied %s\n", file);
    } else {
        if (policy_store_set(pg, tenant ? tenant : "*", scenario ? scenario : "*", &set, clear,
                             "cli", &err) == NT_OK)
            rc = policy_show(pg, tenant, scenario);
        else if (err.code == NT_EINVAL)
            rc = 2;
    }
    if (rc != 0 && err.msg[0] != '\0')
        fprintf(stderr, "numtrust-producer policy %s: %s\n", sub, err.msg);
    nt_pg_free(pg);
out:
    nt_policy_doc_free(&doc);
    nt_buf_free(&text);
    return rc;
}
