/*
 * api_cli.c — the CLI face of the control plane: every API operation as a
 * numtrust-producer subcommand (`numbers list`, `schedules import --file
 * x.ics`, ...), run in process against PostgreSQL with the same code as the
 * HTTP server, and `token`, which creates, lists and revokes API tokens.
 *
 * Options map to the operation's fields: `--base-label X` is base_label;
 * the first positional argument fills the path parameter ({number}, {id},
 * {name}); `--file F` is the body of an import. The CLI acts as an admin;
 * `--tenant T` scopes it to one tenant (and is the tenant of a new number).
 */
#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "hex.h"
#include "job.h"

/* "numbers get" for argv {"numbers", "get"}; single-word operations too. */
static const api_op_t *find_op(int argc, char **argv, int *used)
{
    char name[64];
    if (argc >= 2) {
        snprintf(name, sizeof(name), "%s %s", argv[0], argv[1]);
        for (size_t i = 0; i < api_nops; i++)
            if (strcmp(api_ops[i].cli, name) == 0) {
                *used = 2;
                return &api_ops[i];
            }
    }
    for (size_t i = 0; i < api_nops; i++)
        if (strcmp(api_ops[i].cli, argv[0]) == 0) {
            *used = 1;
            return &api_ops[i];
        }
    return NULL;
}

static void group_usage(FILE *fp, const char *group)
{
    fprintf(fp, "usage: numtrust-producer %s VERB [ARG] [--FIELD VALUE ...] [--tenant T]\n\n",
            group);
    for (size_t i = 0; i < api_nops; i++)
        if (strncmp(api_ops[i].cli, group, strlen(group)) == 0)
            fprintf(fp, "  %-18s %-6s %-30s %s\n", api_ops[i].cli, api_ops[i].method,
                    api_ops[i].path, api_ops[i].help);
    fputs("\nThe same operations as the HTTP API (docs/openapi.yaml), run in process as an\n"
          "admin. --FIELD VALUE sets a field (--base-label X is base_label); the first\n"
          "argument fills the path parameter ({number}, {id}, {name}); --file F is the\n"
          "body of an import (CSV; .ics as iCalendar); --json '{...}' gives fields as JSON.\n"
          "The answer is printed as JSON.\n\n"
          "Exit status: 0 done; 1 PostgreSQL or Kafka failed; 2 usage error; 3 the\n"
          "operation refused its input or found nothing (the API's 4xx).\n",
          fp);
}

static int read_all(const char *path, nt_buf_t *b)
{
    char chunk[65536];
    size_t n;
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (fp == NULL)
        return NT_EIO;
    int rc = NT_OK;
    while (rc == NT_OK && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        rc = nt_buf_append(b, chunk, n);
    if (fp != stdin)
        fclose(fp);
    return rc;
}

int cmd_api(cli_t *cli, int argc, char **argv)
{
    int used = 0, rc = 2;
    const api_op_t *op = find_op(argc, argv, &used);
    cJSON *in = cJSON_CreateObject();
    nt_buf_t body;
    api_ctx_t c;
    const char *file = NULL;
    char tenant_copy[64] = "";

    memset(&c, 0, sizeof(c));
    nt_buf_init(&body, (size_t)cli->cfg.api_max_import_bytes);
    nt_buf_init(&c.out, 0);
    if (in == NULL)
        goto out;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0) {
            group_usage(stdout, argv[0]);
            rc = 0;
            goto out;
        }
    if (op == NULL) {
        rc = cli_usage_error(argv[0], "unknown operation \"%s\"", argc > 1 ? argv[1] : "");
        goto out;
    }
    const char *param = strchr(op->path, '{');
    for (int i = used; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) {
            if (param == NULL || cJSON_GetObjectItem(in, "_positional") != NULL) {
                rc = cli_usage_error(op->cli, "unexpected argument \"%s\"", argv[i]);
                goto out;
            }
            char name[64];
            snprintf(name, sizeof(name), "%.*s", (int)strcspn(param + 1, "}"), param + 1);
            cJSON_AddStringToObject(in, name, argv[i]);
            cJSON_AddTrueToObject(in, "_positional");
            continue;
        }
        if (i + 1 >= argc) {
            rc = cli_usage_error(op->cli, "option %s needs a value", argv[i]);
            goto out;
        }
        const char *v = argv[++i];
        if (strcmp(argv[i - 1], "--file") == 0) {
            file = v;
            continue;
        }
        if (strcmp(argv[i - 1], "--json") == 0) {
            cJSON *j = cJSON_Parse(v);
            if (!cJSON_IsObject(j)) {
                cJSON_Delete(j);
                rc = cli_usage_error(op->cli, "--json: not a JSON object");
                goto out;
            }
            cJSON *item;
            while ((item = j->child) != NULL) {
                cJSON_DetachItemViaPointer(j, item);
                cJSON_DeleteItemFromObjectCaseSensitive(in, item->string);
                cJSON_AddItemToObject(in, item->string, item);
            }
            cJSON_Delete(j);
            continue;
        }
        char key[64];
        snprintf(key, sizeof(key), "%s", argv[i - 1] + 2);
        for (char *k = key; *k; k++)
            if (*k == '-')
                *k = '_';
        cJSON_DeleteItemFromObjectCaseSensitive(in, key);
        cJSON_AddStringToObject(in, key, v);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(in, "_positional");
    if (file != NULL) {
        if (!(op->flags & API_OP_RAW)) {
            rc = cli_usage_error(op->cli, "--file is for imports");
            goto out;
        }
        if (read_all(file, &body) != NT_OK) {
            fprintf(stderr, "numtrust-producer %s: %s: %s\n", op->cli, file,
                    errno ? strerror(errno) : "too large (api.max_import_bytes)");
            rc = 1;
            goto out;
        }
        size_t fl = strlen(file);
        c.content_type =
            fl > 4 && strcmp(file + fl - 4, ".ics") == 0 ? "text/calendar" : "text/csv";
        c.raw = body.data;
        c.raw_len = body.len;
    }
    if (cli_platforms(cli) == NULL || (c.pg = cli_pg(cli)) == NULL) {
        rc = 1;
        goto out;
    }
    c.cli = cli;
    c.in = in;
    c.status = 200;
    c.source = "cli";
    c.role = API_ADMIN;
    if (op->flags & API_OP_FEEDBACK) {
        /* the intake acts for one tenant's website */
        const cJSON *t = cJSON_GetObjectItem(in, "tenant");
        if (!cJSON_IsString(t)) {
            rc = cli_usage_error(op->cli, "--tenant T is required (whose website reports)");
            goto out;
        }
        snprintf(tenant_copy, sizeof(tenant_copy), "%s", t->valuestring);
        cJSON_DeleteItemFromObjectCaseSensitive(in, "tenant");
        c.role = API_FEEDBACK;
        c.tenant = tenant_copy;
    }
    int orc = op->fn(&c);
    if (orc != 0) {
        fprintf(stderr, "numtrust-producer %s: %d: %s%s%s\n", op->cli, c.status,
                c.field[0] ? "field " : "", c.field[0] ? c.field : "",
                c.field[0] ? (strncmp(c.msg, "field ", 6) == 0 ? "" : ": ") : "");
        fprintf(stderr, "  %s\n", c.msg);
        rc = c.status >= 500 ? 1 : 3;
        goto out;
    }
    cJSON *ans = c.html ? NULL : cJSON_ParseWithLength(c.out.data ? c.out.data : "", c.out.len);
    char *pretty = ans != NULL ? cJSON_Print(ans) : NULL;
    if (pretty != NULL)
        printf("%s\n", pretty);
    else if (c.out.len > 0)
        fwrite(c.out.data, 1, c.out.len, stdout);
    free(pretty);
    cJSON_Delete(ans);
    rc = 0;
out:
    nt_pg_free(c.pg);
    nt_buf_free(&c.out);
    nt_buf_free(&body);
    cJSON_Delete(in);
    return rc;
}

/* ------------------------------------------------------------ tokens */

static void token_usage(FILE *fp)
{
    fputs("usage: numtrust-producer token create --name NAME --kind admin|tenant|feedback\n"
          "                                      [--tenant T]\n"
          "       numtrust-producer token revoke --name NAME\n"
          "       numtrust-producer token list\n\n"
          "API tokens of the control plane (`serve`). An admin token sees every tenant; a\n"
          "tenant token only its tenant's numbers; a feedback token may only post callee\n"
          "reports (POST /v1/feedback) for its tenant's website. create prints the token\n"
          "once: only its SHA-256 is stored. The tenant is created if it does not exist.\n\n"
          "Exit status: 0 done; 1 PostgreSQL failed; 2 usage error; 3 no such token or\n"
          "the name is taken.\n",
          fp);
}

int cmd_token(cli_t *cli, int argc, char **argv)
{
    const char *verb = argc > 1 ? argv[1] : NULL, *name = NULL, *kind = NULL, *tenant = NULL;
    nt_err_t err;
    int rc = 1;
    nt_pg_t *pg = NULL;

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0) {
            token_usage(stdout);
            return 0;
        }
    if (verb == NULL)
        return cli_usage_error("token", "create, revoke or list?");
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        if (cli_opt(argc, argv, &i, "--name", &v)) {
            if ((name = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--kind", &v)) {
            if ((kind = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--tenant", &v)) {
            if ((tenant = v) == NULL)
                return 2;
        } else {
            return cli_usage_error("token", "unknown argument \"%s\"", argv[i]);
        }
    }
    nt_err_clear(&err);
    if (strcmp(verb, "create") == 0) {
        if (name == NULL || !nt_job_is_tenant_id(name))
            return cli_usage_error("token", "--name: [A-Za-z0-9][A-Za-z0-9_.-], 1-63 characters");
        if (kind == NULL || (strcmp(kind, "admin") != 0 && strcmp(kind, "tenant") != 0 &&
                             strcmp(kind, "feedback") != 0))
            return cli_usage_error("token", "--kind must be admin, tenant or feedback");
        if ((strcmp(kind, "admin") == 0) != (tenant == NULL))
            return cli_usage_error("token", strcmp(kind, "admin") == 0
                                                ? "an admin token has no --tenant"
                                                : "--tenant T is required for this kind");
        if (tenant != NULL && !nt_job_is_tenant_id(tenant))
            return cli_usage_error("token", "--tenant \"%s\" is not a tenant id", tenant);
        unsigned char rnd[24];
        char token[64], hash[65];
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            fprintf(stderr, "numtrust-producer token: no randomness\n");
            return 1;
        }
        size_t o = (size_t)snprintf(token, sizeof(token), "nt_%s_", kind);
        for (size_t i = 0; i < sizeof(rnd) && o + 2 < sizeof(token); i++, o += 2)
            nt_hex_encode(&rnd[i], 1, token + o);
        token[o] = '\0';
        api_token_hash(token, hash);
        if ((pg = cli_pg(cli)) == NULL)
            goto out;
        const char *tp[] = {tenant};
        const char *p[] = {name, kind, tenant, hash};
        if ((tenant != NULL && nt_pg_run(pg,
                                         "INSERT INTO tenants (id, name) VALUES ($1, $1)"
                                         " ON CONFLICT (id) DO NOTHING",
                                         1, tp, &err) != NT_OK) ||
            nt_pg_run(pg,
                      "INSERT INTO api_tokens (name, kind, tenant_id, token_sha256)"
                      " VALUES ($1, $2, $3, $4)",
                      4, p, &err) != NT_OK) {
            fprintf(stderr, "numtrust-producer token: %s\n", err.msg);
            rc = strstr(err.msg, "23505") != NULL ? 3 : 1;
            goto out;
        }
        printf("%s\n", token);
        fprintf(stderr, "token %s (%s%s%s) created; it is shown only now\n", name, kind,
                tenant ? ", tenant " : "", tenant ? tenant : "");
        rc = 0;
    } else if (strcmp(verb, "revoke") == 0) {
        if (name == NULL)
            return cli_usage_error("token", "--name NAME is required");
        if ((pg = cli_pg(cli)) == NULL)
            goto out;
        const char *p[] = {name};
        PGresult *res = nt_pg_exec(pg,
                                   "UPDATE api_tokens SET revoked_at = now() WHERE name = $1"
                                   " AND revoked_at IS NULL RETURNING id",
                                   1, p, &err);
        if (res == NULL) {
            fprintf(stderr, "numtrust-producer token: %s\n", err.msg);
            goto out;
        }
        int n = PQntuples(res);
        PQclear(res);
        if (n == 0) {
            fprintf(stderr, "numtrust-producer token: no live token named %s\n", name);
            rc = 3;
            goto out;
        }
        printf("token %s revoked\n", name);
        rc = 0;
    } else if (strcmp(verb, "list") == 0) {
        if ((pg = cli_pg(cli)) == NULL)
            goto out;
        PGresult *res = nt_pg_exec(pg,
                                   "SELECT name, kind, COALESCE(tenant_id, '-'),"
                                   " to_char(created_at, 'YYYY-MM-DD HH24:MI'),"
                                   " COALESCE(to_char(last_used_at, 'YYYY-MM-DD HH24:MI'), '-'),"
                                   " CASE WHEN revoked_at IS NULL THEN 'live' ELSE 'revoked' END"
                                   " FROM api_tokens ORDER BY name",
                                   0, NULL, &err);
        if (res == NULL) {
            fprintf(stderr, "numtrust-producer token: %s\n", err.msg);
            goto out;
        }
        printf("%-24s %-9s %-16s %-17s %-17s %s\n", "name", "kind", "tenant", "created",
               "last used", "state");
        for (int r = 0; r < PQntuples(res); r++)
            printf("%-24s %-9s %-16s %-17s %-17s %s\n", PQgetvalue(res, r, 0),
                   PQgetvalue(res, r, 1), PQgetvalue(res, r, 2), PQgetvalue(res, r, 3),
                   PQgetvalue(res, r, 4), PQgetvalue(res, r, 5));
        PQclear(res);
        rc = 0;
    } else {
        return cli_usage_error("token", "unknown verb \"%s\" (create, revoke, list)", verb);
    }
out:
    nt_pg_free(pg);
    return rc;
}
