/*
 * import.c — `numtrust-producer import --numbers FILE.csv`.
 *
 * The CSV (RFC 4180, UTF-8, header line required) has the columns
 *   tenant,number,scenario,base_label,platforms[,group]
 * with platforms separated by ';'. Every row is validated here; a bad row is
 * reported with its line number and reason and the good rows are kept. Good
 * rows go to PostgreSQL with COPY into a temporary table, then into tenants,
 * numbers and number_platforms in one transaction, so a failed import leaves
 * nothing half-done. Importing the same file again changes nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "job.h"
#include "phone.h"
#include "strmap.h"

#define NFIELDS     5
#define FIELD_MAX   4096
#define MAX_PRINTED 50
#define COPY_CHUNK  (256 * 1024)
#define SKIP_MAX    (16L << 20) /* bytes of an overlong record skipped before giving up */
#define STOP_EVERY  65536       /* bytes read between looks at the stop flag */

static const char *const header_names[NFIELDS] = {"tenant", "number", "scenario", "base_label",
                                                  "platforms"};

typedef struct csv_s {
    FILE *fp;
    volatile sig_atomic_t *stop; /* Ctrl-C, SIGTERM: checked while reading */
    unsigned long nread;         /* bytes read, for the stop checks */
    long line;                   /* line where the current record starts */
    long next_line;              /* physical line counter */
    char *fields[NFIELDS + 1];
    size_t nfields;
    nt_buf_t buf;
} csv_t;

/* One byte, or EOF; CSV_STOP when the stop flag was raised (looked at
 * every STOP_EVERY bytes, so a line that never ends cannot hold off Ctrl-C
 * or SIGTERM). */
#define CSV_STOP (-2)
static int csv_getc(csv_t *c)
{
    for (;;) {
        if (++c->nread % STOP_EVERY == 0 && c->stop != NULL && *c->stop)
            return CSV_STOP;
        int ch = fgetc(c->fp);
        if (ch != EOF || !ferror(c->fp) || errno != EINTR)
            return ch;
        /* a signal interrupted the read: ours to stop, or someone else's */
        clearerr(c->fp);
        if (c->stop != NULL && *c->stop)
            return CSV_STOP;
    }
}

/* Reads one record. Returns 1 with fields set, 0 at end of file, -1 on a
 * malformed record (unterminated quote, field too long, a NUL byte) with msg
 * set, -2 when reading must stop (interrupted, a record that never ends, a
 * read error) with msg set. */
static int csv_read(csv_t *c, char *msg, size_t msgsz)
{
    size_t starts[NFIELDS + 1];
    size_t nf = 0;
    int ch;
    bool any = false;
    bool too_many = false;
    bool nul = false;
    size_t consumed = 0; /* bytes of this record, NULs and quotes too */
    nt_buf_reset(&c->buf);
    c->line = c->next_line;
    starts[nf++] = 0;
    for (;;) {
        ch = csv_getc(c);
        if (ch == CSV_STOP)
            goto stop;
        if (ch == EOF) {
            if (ferror(c->fp))
                goto ioerr;
            if (!any)
                return 0;
            break;
        }
        any = true;
        if (++consumed > 5 * FIELD_MAX)
            goto toolong;
        if (ch == '\0') {
            nul = true; /* kept out of the field: it would cut it short */
            continue;
        }
        if (ch == '\n') {
            c->next_line++;
            break;
        }
        if (ch == '\r')
            continue;
        if (ch == '"' && c->buf.len == starts[nf - 1]) {
            /* quoted field */
            for (;;) {
                ch = csv_getc(c);
                if (ch == CSV_STOP)
                    goto stop;
                if (ch == EOF) {
                    if (ferror(c->fp))
                        goto ioerr;
                    snprintf(msg, msgsz, "unterminated quoted field");
                    return -1;
                }
                if (++consumed > 5 * FIELD_MAX)
                    goto toolong;
                if (ch == '\0') {
                    nul = true;
                    continue;
                }
                if (ch == '\n')
                    c->next_line++;
                if (ch == '"') {
                    int nx = csv_getc(c);
                    if (nx == CSV_STOP)
                        goto stop;
                    if (nx == '"') {
                        if (nt_buf_putc(&c->buf, '"') != NT_OK)
                            goto toolong;
                        continue;
                    }
                    if (nx != EOF)
                        ungetc(nx, c->fp);
                    break;
                }
                if (nt_buf_putc(&c->buf, (char)ch) != NT_OK)
                    goto toolong;
            }
            continue;
        }
        if (ch == ',') {
            if (nt_buf_putc(&c->buf, '\0') != NT_OK)
                goto toolong;
            if (nf == NFIELDS + 1) {
                too_many = true;
                continue;
            }
            starts[nf++] = c->buf.len;
            continue;
        }
        if (nt_buf_putc(&c->buf, (char)ch) != NT_OK)
            goto toolong;
    }
    if (nt_buf_putc(&c->buf, '\0') != NT_OK)
        goto toolong;
    if (nul) {
        snprintf(msg, msgsz, "a field contains a NUL byte (0x00)");
        return -1;
    }
    for (size_t i = 0; i < nf; i++)
        c->fields[i] = c->buf.data + starts[i];
    c->nfields = too_many ? NFIELDS + 2 : nf;
    return 1;
toolong : {
    /* skip the rest of the line, within reason */
    long skipped = 0;
    while (ch != '\n' && ch != EOF && ch != CSV_STOP && skipped++ < SKIP_MAX)
        ch = csv_getc(c);
    if (ch == CSV_STOP)
        goto stop;
    if (ch == EOF && ferror(c->fp))
        goto ioerr;
    if (ch != '\n' && ch != EOF) {
        snprintf(msg, msgsz, "a record longer than %ld bytes: not a CSV file of numbers; stopping",
                 SKIP_MAX);
        return -2;
    }
    if (ch == '\n')
        c->next_line++;
    snprintf(msg, msgsz, "record longer than %d bytes", 5 * FIELD_MAX);
    return -1;
}
stop:
    snprintf(msg, msgsz, "interrupted; nothing imported");
    return -2;
ioerr:
    snprintf(msg, msgsz, "cannot read: %s", strerror(errno));
    return -2;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Appends s to a COPY text-format line, escaped. */
static int copy_field(nt_buf_t *b, const char *s, bool last)
{
    int rc = NT_OK;
    for (const char *p = s; rc == NT_OK && *p; p++) {
        switch (*p) {
        case '\\':
            rc = nt_buf_puts(b, "\\\\");
            break;
        case '\t':
            rc = nt_buf_puts(b, "\\t");
            break;
        case '\n':
            rc = nt_buf_puts(b, "\\n");
            break;
        case '\r':
            rc = nt_buf_puts(b, "\\r");
            break;
        default:
            rc = nt_buf_putc(b, *p);
        }
    }
    return rc == NT_OK ? nt_buf_putc(b, last ? '\n' : '\t') : rc;
}

static int send_copy(PGconn *conn, nt_buf_t *b)
{
    if (b->len == 0)
        return NT_OK;
    if (PQputCopyData(conn, b->data, (int)b->len) != 1)
        return NT_EIO;
    nt_buf_reset(b);
    return NT_OK;
}

static int sync_platforms(cli_t *cli, nt_pg_t *pg, const nt_platforms_t *ps)
{
    nt_err_t err;
    nt_err_clear(&err);
    for (size_t i = 0; i < nt_platforms_count(ps); i++) {
        const nt_platform_t *p = nt_platforms_at(ps, i);
        const char *params[] = {nt_platform_id(p), nt_platform_name(p), nt_platform_dialect(p)};
        if (nt_pg_run(pg,
                      "INSERT INTO platforms (id, name, dialect) VALUES ($1, $2, $3) "
                      "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, "
                      "dialect = EXCLUDED.dialect, updated_at = now()",
                      3, params, &err) != NT_OK) {
            fprintf(stderr, "numtrust-producer import: platform %s: %s\n", nt_platform_id(p),
                    err.msg);
            return NT_ERR;
        }
    }
    (void)cli;
    return NT_OK;
}

static void import_usage(FILE *fp)
{
    fputs("usage: numtrust-producer import --numbers FILE.csv [--dry-run]\n\n"
          "Imports numbers from a CSV file with a header line and the columns\n"
          "  tenant,number,scenario,base_label,platforms[,group]\n"
          "e.g.  acme,+8613800138000,high_frequency,ACME公司-销售部,baidu;tencent;qihoo360\n"
          "number: E.164; scenario: high_frequency, seasonal, high_qualification or\n"
          "individual; base_label: 1-64 characters; platforms: ids from platforms_file,\n"
          "separated by ';'; group (optional column): the number's team or department,\n"
          "up to 64 characters, for mark statistics per group (docs/policies.md).\n"
          "Bad rows are reported with their line number and reason;\n"
          "good rows are imported. Re-importing a number updates its tenant, scenario\n"
          "and label and adds new platforms. --dry-run validates only.\n",
          fp);
}

/* Fatal problems and rejected rows go to o->reject when set, else stderr. */
static void say(const import_opts_t *o, long line, const char *fmt, ...) NT_PRINTF(3, 4);
static void say(const import_opts_t *o, long line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (o->reject != NULL)
        o->reject(o->reject_arg, line, msg);
    else if (line > 0)
        fprintf(stderr, "%s: line %ld: %s\n", o->name, line, msg);
    else
        fprintf(stderr, "numtrust-producer import: %s\n", msg);
}

int cmd_import(cli_t *cli, int argc, char **argv)
{
    const char *file = NULL;
    bool dry = false;
    FILE *fp = NULL;
    import_result_t r;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            import_usage(stdout);
            return 0;
        }
        if (cli_opt(argc, argv, &i, "--numbers", &file)) {
            if (file == NULL)
                return 2;
            continue;
        }
        if (strcmp(argv[i], "--dry-run") == 0) {
            dry = true;
            continue;
        }
        return cli_usage_error("import", "unknown argument \"%s\"", argv[i]);
    }
    if (file == NULL)
        return cli_usage_error("import", "--numbers FILE.csv is required");
    struct stat st;
    if (strcmp(file, "-") != 0 && stat(file, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr,
                "numtrust-producer import: --numbers \"%s\" is a directory, not a CSV file\n",
                file);
        return 1;
    }
    fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (fp == NULL) {
        fprintf(stderr, "numtrust-producer import: --numbers \"%s\": %s\n", file, strerror(errno));
        return 1;
    }
    import_opts_t o = {.name = file, .dry = dry};
    int rc = import_numbers(cli, fp, &o, &r);
    if (fp != stdin)
        fclose(fp);
    if (rc != 0)
        return rc;
    printf("%s %ld numbers (%ld number-platform registrations) from %s; rejected %ld rows; "
           "%.1f s\n",
           dry ? "validated" : "imported", r.good, r.regs, file, r.bad, r.secs);
    return r.bad > 0 ? 3 : 0;
}

int import_numbers(cli_t *cli, FILE *fp, const import_opts_t *o, import_result_t *result)
{
    const char *file = o->name;
    bool dry = o->dry;
    csv_t csv;
    nt_pg_t *pg = NULL;
    nt_strmap_t *seen = NULL, *scenarios = NULL;
    nt_buf_t copy;
    nt_err_t err;
    int rc = 1;
    long good = 0, bad = 0, regs = 0, printed = 0;
    int64_t t0 = nt_clock_mono_ms();
    char msg[300];

    memset(&csv, 0, sizeof(csv));
    nt_buf_init(&csv.buf, 5 * FIELD_MAX);
    nt_buf_init(&copy, 0);
    nt_err_clear(&err);
    const nt_platforms_t *ps = cli_platforms(cli);
    if (ps == NULL)
        goto out;
    csv.fp = fp;
    csv.stop = cli->stop;
    csv.next_line = 1;
    if ((pg = cli_pg(cli)) == NULL)
        goto out;
    seen = nt_strmap_new();
    scenarios = nt_strmap_new();
    if (seen == NULL || scenarios == NULL)
        goto out;
    PGresult *res = nt_pg_exec(pg, "SELECT id FROM scenarios", 0, NULL, &err);
    if (res == NULL) {
        say(o, 0, "%s (did you run migrate?)", err.msg);
        goto out;
    }
    for (int r = 0; r < PQntuples(res); r++)
        if (nt_strmap_put(scenarios, PQgetvalue(res, r, 0), (void *)1) != NT_OK) {
            PQclear(res);
            goto out;
        }
    PQclear(res);

    /* header; an optional last column "group": the number's team or department */
    int got = csv_read(&csv, msg, sizeof(msg));
    if (got == -2) {
        say(o, 0, "%s: %s", file, msg);
        goto out;
    }
    size_t ncols =
        got == 1 && csv.nfields == NFIELDS + 1 && strcmp(trim(csv.fields[NFIELDS]), "group") == 0
            ? NFIELDS + 1
            : NFIELDS;
    if (got != 1 || csv.nfields != ncols) {
        say(o, 1, "expected the header %s,%s,%s,%s,%s", header_names[0], header_names[1],
            header_names[2], header_names[3], header_names[4]);
        goto out;
    }
    for (int f = 0; f < NFIELDS; f++) {
        char *h = trim(csv.fields[f]);
        if (f == 0 && (unsigned char)h[0] == 0xEF && (unsigned char)h[1] == 0xBB &&
            (unsigned char)h[2] == 0xBF)
            h += 3; /* UTF-8 byte order mark */
        if (strcmp(h, header_names[f]) != 0) {
            say(o, 1, "column %d is \"%s\", expected \"%s\"", f + 1, h, header_names[f]);
            goto out;
        }
    }
    if (!dry) {
        if (sync_platforms(cli, pg, ps) != NT_OK)
            goto out;
        if (nt_pg_run(pg, "BEGIN", 0, NULL, &err) != NT_OK ||
            nt_pg_run(pg,
                      "CREATE TEMP TABLE import_rows (line bigint, tenant text, number text, "
                      "scenario text,"
                      " label text, platform text, grp text) ON COMMIT DROP",
                      0, NULL, &err) != NT_OK) {
            say(o, 0, "%s", err.msg);
            goto out;
        }
        PGresult *cr = PQexec(nt_pg_conn(pg), "COPY import_rows FROM STDIN");
        if (PQresultStatus(cr) != PGRES_COPY_IN) {
            fprintf(stderr, "numtrust-producer import: COPY: %s", PQresultErrorMessage(cr));
            PQclear(cr);
            goto out;
        }
        PQclear(cr);
    }

    for (;;) {
        if (*cli->stop) {
            say(o, 0, "interrupted; nothing imported");
            goto out;
        }
        got = csv_read(&csv, msg, sizeof(msg));
        if (got == 0)
            break;
        if (got == -2) {
            say(o, csv.line, "%s", msg);
            goto out;
        }
        long line = csv.line;
        const char *reason = NULL;
        char why[300];
        if (got < 0) {
            reason = msg;
        } else if (csv.nfields == 1 && trim(csv.fields[0])[0] == '\0') {
            continue; /* blank line */
        } else if (csv.nfields != ncols) {
            snprintf(why, sizeof(why), "expected %zu fields, found %zu", ncols,
                     csv.nfields > ncols ? ncols + 1 : csv.nfields);
            reason = why;
        }
        char *group = reason == NULL && ncols > NFIELDS ? trim(csv.fields[NFIELDS]) : NULL;
        if (group != NULL &&
            (!nt_buf_is_utf8(group, strlen(group)) || nt_buf_utf8_chars(group) > 64)) {
            snprintf(why, sizeof(why), "field group: at most 64 characters of UTF-8");
            reason = why;
        }
        char *tenant = NULL, *number = NULL, *scenario = NULL, *label = NULL, *plats = NULL;
        if (reason == NULL) {
            tenant = trim(csv.fields[0]);
            number = trim(csv.fields[1]);
            scenario = trim(csv.fields[2]);
            label = trim(csv.fields[3]);
            plats = trim(csv.fields[4]);
            char masked[NT_PHONE_MAX + 8];
            nt_phone_mask(number, strlen(number), masked, sizeof(masked));
            if (!nt_buf_is_utf8(csv.fields[0], strlen(csv.fields[0])) ||
                !nt_buf_is_utf8(label, strlen(label)) || !nt_buf_is_utf8(plats, strlen(plats))) {
                reason = "not valid UTF-8";
            } else if (!nt_job_is_tenant_id(tenant)) {
                snprintf(why, sizeof(why), "field tenant: \"%.64s\" is not [A-Za-z0-9_.-], 1-63",
                         tenant);
                reason = why;
            } else if (!nt_phone_is_e164(number)) {
                snprintf(why, sizeof(why),
                         "field number: \"%s\" is not E.164 (+, then 8-15 digits)", masked);
                reason = why;
            } else if (nt_strmap_get(scenarios, scenario) == NULL) {
                snprintf(why, sizeof(why),
                         "field scenario: \"%.64s\" is not one of high_frequency, seasonal, "
                         "high_qualification, individual",
                         scenario);
                reason = why;
            } else if (nt_buf_utf8_chars(label) == 0 || nt_buf_utf8_chars(label) > 64) {
                snprintf(why, sizeof(why), "field base_label: must be 1-64 characters, has %zu",
                         nt_buf_utf8_chars(label));
                reason = why;
            } else if (o->only_tenant != NULL && strcmp(tenant, o->only_tenant) != 0) {
                snprintf(why, sizeof(why), "field tenant: \"%.64s\" is not your tenant (%s)",
                         tenant, o->only_tenant);
                reason = why;
            } else if (nt_strmap_get(seen, number) != NULL) {
                snprintf(why, sizeof(why), "field number: %s already on line %ld", masked,
                         (long)(intptr_t)nt_strmap_get(seen, number));
                reason = why;
            }
        }
        /* platforms */
        const char *plist[64];
        size_t np = 0;
        if (reason == NULL) {
            char *save = plats;
            while (reason == NULL && save != NULL && *save) {
                char *semi = strchr(save, ';');
                if (semi != NULL)
                    *semi = '\0';
                char *p = trim(save);
                save = semi ? semi + 1 : NULL;
                if (*p == '\0')
                    continue;
                if (nt_platforms_find(ps, p) == NULL) {
                    snprintf(why, sizeof(why), "field platforms: \"%.64s\" is not a platform in %s",
                             p, cli->cfg.platforms_file);
                    reason = why;
                    break;
                }
                bool dup = false;
                for (size_t k = 0; k < np; k++)
                    dup = dup || strcmp(plist[k], p) == 0;
                if (!dup && np < NT_ARRAY_LEN(plist))
                    plist[np++] = p;
            }
            if (reason == NULL && np == 0)
                reason = "field platforms: empty (at least one platform id)";
        }
        if (reason != NULL) {
            bad++;
            if (printed++ < MAX_PRINTED)
                say(o, line, "%s", reason);
            continue;
        }
        if (nt_strmap_put(seen, number, (void *)(intptr_t)line) != NT_OK)
            goto out;
        good++;
        if (!dry) {
            char lbuf[24];
            snprintf(lbuf, sizeof(lbuf), "%ld", line);
            for (size_t k = 0; k < np; k++) {
                if (copy_field(&copy, lbuf, false) != NT_OK ||
                    copy_field(&copy, tenant, false) != NT_OK ||
                    copy_field(&copy, number, false) != NT_OK ||
                    copy_field(&copy, scenario, false) != NT_OK ||
                    copy_field(&copy, label, false) != NT_OK ||
                    copy_field(&copy, plist[k], false) != NT_OK ||
                    copy_field(&copy, group != NULL ? group : "", true) != NT_OK)
                    goto out;
                regs++;
            }
            if (copy.len > COPY_CHUNK && send_copy(nt_pg_conn(pg), &copy) != NT_OK) {
                fprintf(stderr, "numtrust-producer import: COPY: %s",
                        PQerrorMessage(nt_pg_conn(pg)));
                goto out;
            }
        }
        if (good % 100000 == 0)
            fprintf(stderr, "  ... %ld rows read, %ld good, %ld rejected\n", good + bad, good, bad);
    }
    if (printed > MAX_PRINTED)
        say(o, 0, "%s: %ld more rejected rows not shown", file, printed - MAX_PRINTED);
    if (!dry) {
        PGconn *conn = nt_pg_conn(pg);
        if (send_copy(conn, &copy) != NT_OK || PQputCopyEnd(conn, NULL) != 1) {
            fprintf(stderr, "numtrust-producer import: COPY: %s", PQerrorMessage(conn));
            goto out;
        }
        PGresult *cr = PQgetResult(conn);
        bool ok = PQresultStatus(cr) == PGRES_COMMAND_OK;
        if (!ok)
            fprintf(stderr, "numtrust-producer import: COPY: %s", PQresultErrorMessage(cr));
        PQclear(cr);
        while ((cr = PQgetResult(conn)) != NULL)
            PQclear(cr);
        if (!ok)
            goto out;
        if (o->only_tenant != NULL) {
            /* a tenant never takes over a number another tenant manages */
            PGresult *taken = nt_pg_exec(
                pg,
                "WITH d AS (DELETE FROM import_rows r USING numbers n WHERE n.number = r.number"
                " AND n.tenant_id <> r.tenant RETURNING r.line, r.number)"
                " SELECT line, number, count(*) FROM d GROUP BY line, number ORDER BY line",
                0, NULL, &err);
            if (taken == NULL) {
                say(o, 0, "%s", err.msg);
                goto out;
            }
            for (int t = 0; t < PQntuples(taken); t++) {
                say(o, atol(PQgetvalue(taken, t, 0)),
                    "field number: \"%s\" is managed by another tenant", PQgetvalue(taken, t, 1));
                bad++;
                good--;
                regs -= atol(PQgetvalue(taken, t, 2));
            }
            PQclear(taken);
        }
        /* without a group column, a number keeps the group it has */
        const char *numbers_step =
            ncols > NFIELDS
                ? "INSERT INTO numbers (number, tenant_id, scenario_id, base_label, number_group) "
                  "SELECT DISTINCT ON (number) number, tenant, scenario, label, grp "
                  "FROM import_rows ORDER BY number "
                  "ON CONFLICT (number) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, "
                  "scenario_id = EXCLUDED.scenario_id, base_label = EXCLUDED.base_label, "
                  "number_group = EXCLUDED.number_group"
                : "INSERT INTO numbers (number, tenant_id, scenario_id, base_label) "
                  "SELECT DISTINCT ON (number) number, tenant, scenario, label FROM import_rows "
                  "ORDER BY number "
                  "ON CONFLICT (number) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, "
                  "scenario_id = EXCLUDED.scenario_id, base_label = EXCLUDED.base_label";
        const char *const steps[] = {
            "INSERT INTO tenants (id, name) SELECT DISTINCT tenant, tenant FROM import_rows "
            "ON CONFLICT (id) DO NOTHING",
            numbers_step,
            "INSERT INTO number_platforms (number, platform) "
            "SELECT DISTINCT number, platform FROM import_rows ON CONFLICT DO NOTHING",
            "COMMIT",
        };
        for (size_t s = 0; s < NT_ARRAY_LEN(steps); s++) {
            if (nt_pg_run(pg, steps[s], 0, NULL, &err) != NT_OK) {
                say(o, 0, "%s", err.msg);
                goto out;
            }
        }
    }
    result->good = good;
    result->bad = bad;
    result->regs = regs;
    result->secs = (double)(nt_clock_mono_ms() - t0) / 1000.0;
    rc = 0;
out:
    nt_buf_free(&csv.buf);
    nt_buf_free(&copy);
    nt_strmap_free(seen);
    nt_strmap_free(scenarios);
    nt_pg_free(pg);
    return rc;
}
