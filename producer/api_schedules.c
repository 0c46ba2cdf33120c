/*
 * api_schedules.c — label schedules: campaign, qualification, region and
 * time-slot labels with their windows, one at a time or in bulk from CSV or
 * an iCalendar file (campaign calendars live in calendars).
 *
 * iCalendar (RFC 5545), what is read of each VEVENT:
 *   SUMMARY            the label (1-64 characters)
 *   DTSTART, DTEND     the event's window (UTC "Z" times, DATE values, or
 *                      TZID=Asia/Shanghai and the other UTC+8 zones; floating
 *                      times are read as UTC); without DTEND a DATE event
 *                      lasts its day
 *   RRULE              FREQ=YEARLY|MONTHLY|WEEKLY|DAILY with INTERVAL, COUNT,
 *                      UNTIL: expanded into one schedule per occurrence that
 *                      ends within horizon_days (default 400), at most 400
 *   CATEGORIES / X-NUMTRUST-KIND      campaign (default), qualification,
 *                      region or timeslot
 *   X-NUMTRUST-NUMBERS  comma-separated E.164 numbers; else the request's
 *                      `numbers`, else every active number of the tenant
 *   X-NUMTRUST-PLATFORM  one platform; else the request's, else all
 * A campaign goes live `lead` before its start (default 7 days, the
 * article's rule); the other kinds at their start. A file is imported whole
 * or not at all: the first bad event is named with its line and field.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api.h"
#include "clock.h"
#include "phone.h"

#define MAX_ROWS        20000 /* schedules one import may create (before number expansion) */
#define MAX_OCCURRENCES 400

static const char *const kinds[] = {"campaign", "qualification", "region", "timeslot"};

/* default lead per kind (domain.md: campaigns 7 days ahead; the rest at start) */
static const char *default_lead(const char *kind)
{
    return strcmp(kind, "campaign") == 0 ? "7 days" : "0";
}

static bool is_kind(const char *s)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(kinds); i++)
        if (strcmp(s, kinds[i]) == 0)
            return true;
    return false;
}

/* "active": the schedule's window is open in numtrust time (nt_now(), 005a) */
#define SCHEDULE_JSON                                                                              \
    "json_build_object('id', ls.id, 'number', ls.number, 'platform', ls.platform, 'kind',"         \
    " ls.kind, 'label', ls.label, 'event_start', ls.event_start, 'event_end', ls.event_end,"       \
    " 'lead', ls.lead::text, 'priority', ls.priority, 'live_from', ls.event_start - ls.lead,"      \
    " 'active', nt_now() >= ls.event_start - ls.lead AND (ls.event_end IS NULL OR nt_now() < "     \
    "ls.event_end))"

int api_schedules_list(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "number", "kind", "active", "limit", NULL};
    long limit = 1000;
    if (api_only(c, allowed) != 0 || api_int(c, "limit", 1, 10000, &limit) != 0)
        return -1;
    const char *kind = api_str(c, "kind"), *active = api_str(c, "active");
    if (kind != NULL && !is_kind(kind))
        return api_fail(c, 400, "kind",
                        "field kind: \"%.30s\" is not campaign, qualification, "
                        "region or timeslot",
                        kind);
    if (active != NULL && strcmp(active, "true") != 0 && strcmp(active, "false") != 0)
        return api_fail(c, 400, "active", "field active: must be true or false");
    char lim[24];
    snprintf(lim, sizeof(lim), "%ld", limit);
    const char *p[] = {api_scope(c), api_str(c, "number"), kind, active, lim};
    return api_sql_json(
        c,
        "SELECT COALESCE(json_agg(x.j ORDER BY x.id), '[]')::text FROM ("
        " SELECT ls.id, " SCHEDULE_JSON " AS j FROM label_schedules ls"
        " JOIN numbers n ON n.number = ls.number"
        " WHERE ($1::text IS NULL OR n.tenant_id = $1) AND ($2::text IS NULL OR ls.number = $2)"
        "   AND ($3::text IS NULL OR ls.kind = $3)"
        "   AND ($4::bool IS NULL OR $4::bool = ((SELECT nt_now()) >= ls.event_start - ls.lead"
        "        AND (ls.event_end IS NULL OR (SELECT nt_now()) < ls.event_end)))"
        " ORDER BY ls.id LIMIT $5::int) x",
        5, p, NULL);
}

int api_schedules_delete(api_ctx_t *c)
{
    static const char *const allowed[] = {"id", "tenant", NULL};
    long id = 0;
    if (api_only(c, allowed) != 0 || api_int(c, "id", 1, 9000000000000000000L, &id) != 0)
        return -1;
    char ids[24], nf[64];
    snprintf(ids, sizeof(ids), "%ld", id);
    snprintf(nf, sizeof(nf), "schedule %ld not found", id);
    const char *p[] = {api_scope(c), ids};
    return api_sql_json(c,
                        "DELETE FROM label_schedules ls USING numbers n WHERE ls.id = $2::bigint"
                        " AND n.number = ls.number AND ($1::text IS NULL OR n.tenant_id = $1)"
                        " RETURNING json_build_object('deleted', ls.id)::text",
                        2, p, nf);
}

/* ------------------------------------------------------------ rows */

/* Schedules to insert, as unnest() arrays. numbers: comma list or NULL (every
 * active number of the tenant). */
typedef struct rows_s {
    nt_pg_array_t numbers, platform, kind, label, start, end, lead, prio;
    size_t n;
} rows_t;

static void rows_init(rows_t *r)
{
    nt_pg_array_init(&r->numbers);
    nt_pg_array_init(&r->platform);
    nt_pg_array_init(&r->kind);
    nt_pg_array_init(&r->label);
    nt_pg_array_init(&r->start);
    nt_pg_array_init(&r->end);
    nt_pg_array_init(&r->lead);
    nt_pg_array_init(&r->prio);
    r->n = 0;
}

static void rows_free(rows_t *r)
{
    nt_pg_array_free(&r->numbers);
    nt_pg_array_free(&r->platform);
    nt_pg_array_free(&r->kind);
    nt_pg_array_free(&r->label);
    nt_pg_array_free(&r->start);
    nt_pg_array_free(&r->end);
    nt_pg_array_free(&r->lead);
    nt_pg_array_free(&r->prio);
}

typedef struct sched_s {
    const char *numbers; /* comma list, NULL: the tenant's */
    const char *platform;
    const char *kind;
    const char *label;
    int64_t start_ms, end_ms; /* end 0: open-ended */
    const char *lead;         /* interval text; NULL: the kind's default */
    long priority;
} sched_t;

/* Validates one schedule; on failure fills c (field named, prefixed by where). */
static int sched_check(api_ctx_t *c, const sched_t *s, const char *where)
{
    if (!is_kind(s->kind))
        return api_fail(c, 400, "kind",
                        "%sfield kind: \"%.30s\" is not campaign, qualification, region or "
                        "timeslot",
                        where, s->kind);
    size_t chars = nt_buf_utf8_chars(s->label);
    if (chars == 0 || chars > 64)
        return api_fail(c, 400, "label", "%sfield label: must be 1-64 characters, has %zu", where,
                        chars);
    if (s->platform != NULL && s->platform[0] != '\0' &&
        nt_platforms_find(c->cli->platforms, s->platform) == NULL)
        return api_fail(c, 400, "platform", "%sfield platform: \"%.60s\" is not a platform", where,
                        s->platform);
    if (s->end_ms != 0 && s->end_ms <= s->start_ms)
        return api_fail(c, 400, "event_end", "%sfield event_end: must be after event_start", where);
    if (s->priority < -32768 || s->priority > 32767)
        return api_fail(c, 400, "priority", "%sfield priority: outside [-32768, 32767]", where);
    if (s->numbers != NULL) {
        /* every element E.164 */
        const char *p = s->numbers;
        while (*p) {
            size_t n = strcspn(p, ",");
            char one[40];
            snprintf(one, sizeof(one), "%.*s", (int)(n < 39 ? n : 39), p);
            if (!nt_phone_is_e164(one))
                return api_fail(c, 400, "number", "%sfield number: \"%.20s\" is not E.164", where,
                                one);
            p += n;
            if (*p == ',')
                p++;
        }
    }
    return 0;
}

static int rows_add(api_ctx_t *c, rows_t *r, const sched_t *s)
{
    char start[NT_RFC3339_LEN], end[NT_RFC3339_LEN], prio[16];
    if (r->n >= MAX_ROWS)
        return api_fail(c, 413, "body", "more than %d schedules in one import", MAX_ROWS);
    nt_clock_format(s->start_ms, start);
    nt_clock_format(s->end_ms, end);
    snprintf(prio, sizeof(prio), "%ld", s->priority);
    if (nt_pg_array_add_str(&r->numbers, s->numbers) != NT_OK ||
        nt_pg_array_add_str(&r->platform,
                            s->platform != NULL && s->platform[0] ? s->platform : NULL) != NT_OK ||
        nt_pg_array_add_str(&r->kind, s->kind) != NT_OK ||
        nt_pg_array_add_str(&r->label, s->label) != NT_OK ||
        nt_pg_array_add_str(&r->start, start) != NT_OK ||
        nt_pg_array_add_str(&r->end, s->end_ms != 0 ? end : NULL) != NT_OK ||
        nt_pg_array_add_str(
            &r->lead, s->lead != NULL && s->lead[0] ? s->lead : default_lead(s->kind)) != NT_OK ||
        nt_pg_array_add_str(&r->prio, prio) != NT_OK)
        return api_fail(c, 500, NULL, "out of memory");
    r->n++;
    return 0;
}

/* Inserts every row in one statement: nothing when any number is unknown
 * (or another tenant's). */
static int rows_insert(api_ctx_t *c, rows_t *r)
{
    const char *p[] = {api_scope(c),
                       nt_pg_array_text(&r->numbers),
                       nt_pg_array_text(&r->platform),
                       nt_pg_array_text(&r->kind),
                       nt_pg_array_text(&r->label),
                       nt_pg_array_text(&r->start),
                       nt_pg_array_text(&r->end),
                       nt_pg_array_text(&r->lead),
                       nt_pg_array_text(&r->prio)};
    for (size_t i = 1; i < NT_ARRAY_LEN(p); i++)
        if (p[i] == NULL)
            return api_fail(c, 500, NULL, "out of memory");
    if (api_sql_json(
            c,
            "WITH e AS (SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[],"
            "   $6::timestamptz[], $7::timestamptz[], $8::interval[], $9::smallint[])"
            "   AS e(numbers, platform, kind, label, s, en, lead, prio)),"
            " t AS (SELECT e.*, x.num FROM e CROSS JOIN LATERAL ("
            "   SELECT trim(u) AS num FROM unnest(string_to_array(e.numbers, ',')) u"
            "   WHERE e.numbers IS NOT NULL"
            "   UNION ALL SELECT n.number FROM numbers n WHERE e.numbers IS NULL"
            "   AND n.tenant_id = $1 AND n.status = 'active') x),"
            " bad AS (SELECT t.num FROM t LEFT JOIN numbers n ON n.number = t.num"
            "   AND ($1::text IS NULL OR n.tenant_id = $1) WHERE n.number IS NULL),"
            " ins AS (INSERT INTO label_schedules (number, platform, kind, label, event_start,"
            "   event_end, lead, priority) SELECT t.num, t.platform, t.kind, t.label, t.s, t.en,"
            "   t.lead, t.prio FROM t WHERE NOT EXISTS (SELECT 1 FROM bad) RETURNING id, number)"
            " SELECT json_build_object('imported', (SELECT count(*) FROM ins),"
            "   'numbers', (SELECT count(DISTINCT number) FROM ins),"
            "   'unknown_number', (SELECT min(num) FROM bad),"
            "   'ids', COALESCE((SELECT json_agg(id ORDER BY id) FROM ins), '[]'))::text",
            9, p, NULL) != 0)
        return -1;
    cJSON *ans = cJSON_Parse(c->out.data);
    const char *unknown = cJSON_GetStringValue(cJSON_GetObjectItem(ans, "unknown_number"));
    int rc = 0;
    if (unknown != NULL)
        rc = api_fail(c, 400, "number",
                      "field number: %.20s is not one of your numbers; nothing "
                      "imported",
                      unknown);
    cJSON_Delete(ans);
    return rc;
}

/* ------------------------------------------------------------ one */

static int parse_time(api_ctx_t *c, const char *field, const char *s, int64_t *ms)
{
    if (nt_clock_parse(s, ms) != NT_OK)
        return api_fail(c, 400, field,
                        "field %s: \"%.40s\" is not an RFC 3339 time (2027-02-07T00:00:00Z)", field,
                        s);
    return 0;
}

int api_schedules_add(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant",   "number",      "platform",  "kind",
                                          "label",    "event_start", "event_end", "lead",
                                          "priority", NULL};
    sched_t s = {0};
    const char *start;
    rows_t r;
    rows_init(&r);
    int rc = -1;
    if (api_only(c, allowed) != 0 || api_need(c, "number", &s.numbers) != 0 ||
        api_need(c, "kind", &s.kind) != 0 || api_need(c, "label", &s.label) != 0 ||
        api_need(c, "event_start", &start) != 0 || parse_time(c, "event_start", start, &s.start_ms))
        goto out;
    if (strchr(s.numbers, ',') != NULL) {
        api_fail(c, 400, "number", "field number: one number (use the import for many)");
        goto out;
    }
    if (api_str(c, "event_end") != NULL &&
        parse_time(c, "event_end", api_str(c, "event_end"), &s.end_ms) != 0)
        goto out;
    if (api_int(c, "priority", -32768, 32767, &s.priority) != 0)
        goto out;
    s.platform = api_str(c, "platform");
    s.lead = api_str(c, "lead");
    if (s.lead != NULL) {
        /* the interval's syntax is PostgreSQL's: ask it, and name the field */
        nt_err_t err;
        nt_err_clear(&err);
        const char *lp[] = {s.lead};
        PGresult *res = nt_pg_exec(c->pg, "SELECT $1::interval >= interval '0'", 1, lp, &err);
        bool ok = res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        if (!ok) {
            api_fail(c, 400, "lead",
                     "field lead: \"%.40s\" is not a non-negative interval "
                     "(\"7 days\", \"24 hours\")",
                     s.lead);
            goto out;
        }
    }
    if (sched_check(c, &s, "") != 0 || rows_add(c, &r, &s) != 0 || rows_insert(c, &r) != 0)
        goto out;
    /* answer the schedule itself */
    cJSON *ans = cJSON_Parse(c->out.data);
    const cJSON *ids = cJSON_GetObjectItem(ans, "ids");
    char id[32];
    snprintf(id, sizeof(id), "%.0f",
             cJSON_GetArraySize(ids) > 0 ? cJSON_GetArrayItem(ids, 0)->valuedouble : 0.0);
    cJSON_Delete(ans);
    nt_buf_reset(&c->out);
    const char *p[] = {id};
    if (api_sql_json(c, "SELECT " SCHEDULE_JSON "::text FROM label_schedules ls WHERE ls.id = $1",
                     1, p, "schedule vanished") != 0)
        goto out;
    c->status = 201;
    rc = 0;
out:
    rows_free(&r);
    return rc;
}

/* ------------------------------------------------------------ CSV */

/* Splits one CSV record in place (RFC 4180 quotes; no newline inside quotes).
 * Returns the number of fields (at most max). */
static size_t csv_split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *w = line, *r = line;
    while (n < max) {
        fields[n++] = w;
        bool quoted = *r == '"';
        if (quoted)
            r++;
        for (;;) {
            if (*r == '\0')
                break;
            if (quoted && *r == '"') {
                if (r[1] == '"') {
                    *w++ = '"';
                    r += 2;
                    continue;
                }
                quoted = false;
                r++;
                continue;
            }
            if (!quoted && *r == ',')
                break;
            *w++ = *r++;
        }
        bool more = *r == ',';
        *w++ = '\0';
        if (!more)
            break;
        r++;
    }
    return n;
}

static int import_csv(api_ctx_t *c, rows_t *rows, char *text)
{
    static const char *const header[] = {"number",      "platform",  "kind", "label",
                                         "event_start", "event_end", "lead", "priority"};
    char *save = NULL, where[48];
    long line = 0;
    for (char *l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        line++;
        size_t len = strlen(l);
        if (len > 0 && l[len - 1] == '\r')
            l[--len] = '\0';
        char *f[9];
        size_t nf = csv_split(l, f, 9);
        snprintf(where, sizeof(where), "line %ld: ", line);
        if (line == 1) {
            if (nf != 8)
                return api_fail(c, 400, "body",
                                "line 1: expected the header "
                                "number,platform,kind,label,event_start,"
                                "event_end,lead,priority");
            for (size_t i = 0; i < 8; i++)
                if (strcmp(f[i], header[i]) != 0)
                    return api_fail(c, 400, "body",
                                    "line 1: column %zu is \"%.30s\", expected \"%s\"", i + 1, f[i],
                                    header[i]);
            continue;
        }
        if (nf == 1 && f[0][0] == '\0')
            continue;
        if (nf != 8)
            return api_fail(c, 400, "body", "line %ld: expected 8 fields, found %zu", line, nf);
        sched_t s = {.numbers = f[0], .platform = f[1], .kind = f[2], .label = f[3], .lead = f[6]};
        char fld[16];
        snprintf(fld, sizeof(fld), "event_start");
        if (nt_clock_parse(f[4], &s.start_ms) != NT_OK)
            return api_fail(c, 400, "event_start",
                            "line %ld: field event_start: \"%.40s\" is not an RFC 3339 time", line,
                            f[4]);
        if (f[5][0] != '\0' && nt_clock_parse(f[5], &s.end_ms) != NT_OK)
            return api_fail(c, 400, "event_end",
                            "line %ld: field event_end: \"%.40s\" is not an RFC 3339 time", line,
                            f[5]);
        if (f[7][0] != '\0') {
            char *end = NULL;
            s.priority = strtol(f[7], &end, 10);
            if (end == f[7] || *end != '\0')
                return api_fail(c, 400, "priority",
                                "line %ld: field priority: \"%.20s\" is not an integer", line,
                                f[7]);
        }
        if (!nt_phone_is_e164(s.numbers))
            return api_fail(c, 400, "number", "line %ld: field number: \"%.20s\" is not E.164",
                            line, s.numbers);
        if (sched_check(c, &s, where) != 0 || rows_add(c, rows, &s) != 0)
            return -1;
    }
    if (line == 0)
        return api_fail(c, 400, "body", "empty CSV");
    return 0;
}

/* ------------------------------------------------------------ iCalendar */

typedef struct tzrow_s {
    const char *tzid;
    int offset_min;
} tzrow_t;

/* Zones without daylight saving time, by offset (the rest need a VTIMEZONE
 * engine this importer does not have: use UTC times for them). */
static const tzrow_t zones[] = {
    {"UTC", 0},
    {"Etc/UTC", 0},
    {"GMT", 0},
    {"Asia/Shanghai", 480},
    {"Asia/Chongqing", 480},
    {"Asia/Hong_Kong", 480},
    {"Asia/Macau", 480},
    {"Asia/Taipei", 480},
    {"Asia/Singapore", 480},
    {"Asia/Tokyo", 540},
    {"Asia/Seoul", 540},
    {"Asia/Kolkata", 330},
};

/* Parses an iCalendar DATE or DATE-TIME value with its TZID parameter (may
 * be NULL). *is_date for DATE values. */
static int ical_time(const char *v, const char *tzid, int64_t *ms, bool *is_date)
{
    int y, mo, d, h = 0, mi = 0, s = 0;
    size_t len = strlen(v);
    *is_date = len == 8;
    if (len == 8) {
        if (sscanf(v, "%4d%2d%2d", &y, &mo, &d) != 3)
            return -1;
    } else if (len == 15 || (len == 16 && v[15] == 'Z')) {
        if (sscanf(v, "%4d%2d%2dT%2d%2d%2d", &y, &mo, &d, &h, &mi, &s) != 6 || v[8] != 'T')
            return -1;
    } else {
        return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return -1;
    int offset = 0;
    if (tzid != NULL && len != 16) {
        bool found = false;
        for (size_t i = 0; i < NT_ARRAY_LEN(zones) && !found; i++)
            if (strcmp(zones[i].tzid, tzid) == 0) {
                offset = zones[i].offset_min;
                found = true;
            }
        if (!found)
            return -2;
    }
    *ms = ((nt_clock_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL + h * 3600LL +
            mi * 60LL + s) -
           offset * 60LL) *
          1000LL;
    return 0;
}

/* Text values: \n, \, \; \\ unescaped in place. */
static void ical_unescape(char *v)
{
    char *w = v;
    for (char *r = v; *r; r++) {
        if (*r == '\\' && r[1] != '\0') {
            r++;
            *w++ = (*r == 'n' || *r == 'N') ? ' ' : *r;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

typedef struct vevent_s {
    long line;
    char summary[512], kind[32], numbers[8192], platform[64], rrule[256];
    char start[32], start_tz[64], end[32], end_tz[64];
} vevent_t;

/* Adds months to a UTC time (years: 12 months); false when the day does not
 * exist in that month (the 31st, 29 February): such occurrences are skipped,
 * as RFC 5545 says. */
static bool add_months(int64_t ms, long months, int64_t *out)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    int mday = tm.tm_mday;
    long total = tm.tm_mon + months;
    tm.tm_year += (int)(total / 12);
    tm.tm_mon = (int)(total % 12);
    time_t t2 = timegm(&tm);
    struct tm chk;
    gmtime_r(&t2, &chk);
    *out = (int64_t)t2 * 1000 + ms % 1000;
    return chk.tm_mday == mday;
}

static const char *rrule_get(const char *rule, const char *key, char *out, size_t outsz)
{
    size_t kl = strlen(key);
    for (const char *p = rule; p != NULL && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL) {
        if (strncasecmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t n = strcspn(p + kl + 1, ";");
            snprintf(out, outsz, "%.*s", (int)n, p + kl + 1);
            return out;
        }
    }
    return NULL;
}

static int event_rows(api_ctx_t *c, rows_t *rows, vevent_t *ev, const char *def_kind,
                      const char *def_numbers, const char *def_platform, long horizon_days)
{
    char where[48];
    bool sdate = false, edate = false;
    sched_t s = {0};
    snprintf(where, sizeof(where), "line %ld: ", ev->line);
    if (ev->start[0] == '\0')
        return api_fail(c, 400, "DTSTART", "%sVEVENT without DTSTART", where);
    int tr = ical_time(ev->start, ev->start_tz[0] ? ev->start_tz : NULL, &s.start_ms, &sdate);
    if (tr != 0)
        return api_fail(c, 400, "DTSTART",
                        tr == -2 ? "%sfield DTSTART: TZID \"%s\" is not supported (use UTC times)"
                                 : "%sfield DTSTART: \"%s\" is not a DATE or DATE-TIME",
                        where, tr == -2 ? ev->start_tz : ev->start);
    if (ev->end[0] != '\0') {
        tr = ical_time(ev->end, ev->end_tz[0] ? ev->end_tz : NULL, &s.end_ms, &edate);
        if (tr != 0)
            return api_fail(c, 400, "DTEND",
                            tr == -2 ? "%sfield DTEND: TZID \"%s\" is not supported (use UTC "
                                       "times)"
                                     : "%sfield DTEND: \"%s\" is not a DATE or DATE-TIME",
                            where, tr == -2 ? ev->end_tz : ev->end);
    } else if (sdate) {
        s.end_ms = s.start_ms + 86400000LL; /* a DATE event lasts its day */
    }
    (void)edate;
    ical_unescape(ev->summary);
    s.label = ev->summary;
    s.kind = ev->kind[0] ? ev->kind : def_kind;
    s.numbers = ev->numbers[0] ? ev->numbers : def_numbers;
    s.platform = ev->platform[0] ? ev->platform : def_platform;
    if (s.label[0] == '\0')
        return api_fail(c, 400, "SUMMARY", "%sfield SUMMARY: the label is missing", where);
    if (s.numbers == NULL && c->role == API_ADMIN && api_scope(c) == NULL)
        return api_fail(c, 400, "numbers",
                        "%sno X-NUMTRUST-NUMBERS and no `numbers`: give `tenant` to mean all "
                        "its numbers",
                        where);
    /* the SUMMARY check names SUMMARY, not label */
    size_t chars = nt_buf_utf8_chars(s.label);
    if (chars > 64)
        return api_fail(c, 400, "SUMMARY",
                        "%sfield SUMMARY: the label must be 1-64 characters, "
                        "has %zu",
                        where, chars);
    if (sched_check(c, &s, where) != 0)
        return -1;
    if (ev->rrule[0] == '\0')
        return rows_add(c, rows, &s);

    /* recurrence */
    char v[64];
    const char *freq = rrule_get(ev->rrule, "FREQ", v, sizeof(v));
    long step_months = 0, step_days = 0, interval = 1, count = MAX_OCCURRENCES;
    if (freq == NULL)
        return api_fail(c, 400, "RRULE", "%sfield RRULE: no FREQ", where);
    if (strcasecmp(freq, "YEARLY") == 0)
        step_months = 12;
    else if (strcasecmp(freq, "MONTHLY") == 0)
        step_months = 1;
    else if (strcasecmp(freq, "WEEKLY") == 0)
        step_days = 7;
    else if (strcasecmp(freq, "DAILY") == 0)
        step_days = 1;
    else
        return api_fail(c, 400, "RRULE",
                        "%sfield RRULE: FREQ=%s is not YEARLY, MONTHLY, WEEKLY or DAILY", where,
                        freq);
    if (rrule_get(ev->rrule, "INTERVAL", v, sizeof(v)) != NULL) {
        interval = strtol(v, NULL, 10);
        if (interval < 1 || interval > 1000)
            return api_fail(c, 400, "RRULE", "%sfield RRULE: INTERVAL=%s", where, v);
    }
    if (rrule_get(ev->rrule, "COUNT", v, sizeof(v)) != NULL) {
        count = strtol(v, NULL, 10);
        if (count < 1)
            return api_fail(c, 400, "RRULE", "%sfield RRULE: COUNT=%s", where, v);
    }
    int64_t until = INT64_MAX, now = c->domain_now_ms;
    int64_t horizon = now + horizon_days * 86400000LL;
    if (rrule_get(ev->rrule, "UNTIL", v, sizeof(v)) != NULL) {
        bool ud;
        if (ical_time(v, NULL, &until, &ud) != 0)
            return api_fail(c, 400, "RRULE", "%sfield RRULE: UNTIL=%s", where, v);
    }
    int64_t dur = s.end_ms != 0 ? s.end_ms - s.start_ms : 0;
    int64_t first = s.start_ms;
    long made = 0;
    for (long k = 0; k < count && made < MAX_OCCURRENCES; k++) {
        int64_t at;
        if (step_months != 0) {
            if (!add_months(first, k * step_months * interval, &at))
                continue;
        } else {
            at = first + k * step_days * interval * 86400000LL;
        }
        if (at > until || at > horizon)
            break;
        sched_t o = s;
        o.start_ms = at;
        o.end_ms = dur != 0 ? at + dur : 0;
        if (o.end_ms != 0 && o.end_ms <= now)
            continue; /* past occurrences are history, not schedules */
        if (rows_add(c, rows, &o) != 0)
            return -1;
        made++;
    }
    return 0;
}

static void prop_param(const char *params, const char *name, char *out, size_t outsz)
{
    out[0] = '\0';
    size_t nl = strlen(name);
    for (const char *p = params; p != NULL && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL)
        if (strncasecmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t n = strcspn(p + nl + 1, ";:");
            snprintf(out, outsz, "%.*s", (int)n, p + nl + 1);
            if (out[0] == '"') {
                memmove(out, out + 1, strlen(out));
                out[strcspn(out, "\"")] = '\0';
            }
            return;
        }
}

static int import_ical(api_ctx_t *c, rows_t *rows, char *text)
{
    const char *def_kind = api_str(c, "kind") != NULL ? api_str(c, "kind") : "campaign";
    const char *def_numbers = api_str(c, "numbers"), *def_platform = api_str(c, "platform");
    long horizon = 400;
    if (api_int(c, "horizon_days", 1, 3660, &horizon) != 0)
        return -1;
    /* unfold: a line starting with a space or tab continues the previous one */
    char *w = text;
    for (char *r = text; *r; r++) {
        if (*r == '\r')
            continue;
        if (*r == '\n' && (r[1] == ' ' || r[1] == '\t')) {
            r++;
            continue;
        }
        *w++ = *r;
    }
    *w = '\0';
    vevent_t *ev = calloc(1, sizeof(*ev));
    if (ev == NULL)
        return api_fail(c, 500, NULL, "out of memory");
    bool in_event = false, any = false, calendar = false;
    long line = 0;
    int rc = 0;
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); rc == 0 && l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        line++;
        char *colon = strchr(l, ':');
        if (colon == NULL)
            continue;
        *colon = '\0';
        char *value = colon + 1;
        char *semi = strchr(l, ';');
        const char *params = "";
        if (semi != NULL) {
            *semi = '\0';
            params = semi + 1;
        }
        const char *name = l;
        if (strcasecmp(name, "BEGIN") == 0 && strcasecmp(value, "VCALENDAR") == 0) {
            calendar = true;
        } else if (strcasecmp(name, "BEGIN") == 0 && strcasecmp(value, "VEVENT") == 0) {
            memset(ev, 0, sizeof(*ev));
            ev->line = line;
            in_event = true;
        } else if (strcasecmp(name, "END") == 0 && strcasecmp(value, "VEVENT") == 0 && in_event) {
            in_event = false;
            any = true;
            rc = event_rows(c, rows, ev, def_kind, def_numbers, def_platform, horizon);
        } else if (in_event) {
            char tz[64];
            if (strcasecmp(name, "SUMMARY") == 0) {
                snprintf(ev->summary, sizeof(ev->summary), "%s", value);
            } else if (strcasecmp(name, "DTSTART") == 0) {
                snprintf(ev->start, sizeof(ev->start), "%s", value);
                prop_param(params, "TZID", tz, sizeof(tz));
                snprintf(ev->start_tz, sizeof(ev->start_tz), "%s", tz);
            } else if (strcasecmp(name, "DTEND") == 0) {
                snprintf(ev->end, sizeof(ev->end), "%s", value);
                prop_param(params, "TZID", tz, sizeof(tz));
                snprintf(ev->end_tz, sizeof(ev->end_tz), "%s", tz);
            } else if (strcasecmp(name, "RRULE") == 0) {
                snprintf(ev->rrule, sizeof(ev->rrule), "%s", value);
            } else if (strcasecmp(name, "X-NUMTRUST-KIND") == 0) {
                snprintf(ev->kind, sizeof(ev->kind), "%s", value);
            } else if (strcasecmp(name, "CATEGORIES") == 0 && ev->kind[0] == '\0') {
                /* the first category that is a kind */
                char *save2 = NULL;
                for (char *cat = strtok_r(value, ",", &save2); cat != NULL;
                     cat = strtok_r(NULL, ",", &save2)) {
                    for (char *p = cat; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
                    if (is_kind(cat)) {
                        snprintf(ev->kind, sizeof(ev->kind), "%s", cat);
                        break;
                    }
                }
            } else if (strcasecmp(name, "X-NUMTRUST-NUMBERS") == 0) {
                if (strlen(value) >= sizeof(ev->numbers))
                    rc = api_fail(c, 413, "X-NUMTRUST-NUMBERS",
                                  "line %ld: field X-NUMTRUST-NUMBERS: too long", line);
                snprintf(ev->numbers, sizeof(ev->numbers), "%s", value);
            } else if (strcasecmp(name, "X-NUMTRUST-PLATFORM") == 0) {
                snprintf(ev->platform, sizeof(ev->platform), "%s", value);
            }
        }
    }
    free(ev);
    if (rc != 0)
        return rc;
    if (!calendar)
        return api_fail(c, 400, "body", "not an iCalendar file (no BEGIN:VCALENDAR)");
    if (!any)
        return api_fail(c, 400, "body", "the calendar has no VEVENT");
    return 0;
}

int api_schedules_import(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant",       "kind",   "numbers", "platform",
                                          "horizon_days", "format", NULL};
    rows_t rows;
    char *text = NULL;
    int rc = -1;
    rows_init(&rows);
    if (api_only(c, allowed) != 0)
        goto out;
    if (c->raw == NULL || c->raw_len == 0) {
        api_fail(c, 400, "body", "body: a CSV or iCalendar file");
        goto out;
    }
    if (memchr(c->raw, '\0', c->raw_len) != NULL) {
        api_fail(c, 400, "body", "body: contains NUL bytes");
        goto out;
    }
    text = strndup(c->raw, c->raw_len);
    if (text == NULL) {
        api_fail(c, 500, NULL, "out of memory");
        goto out;
    }
    /* numtrust time (nt_now()): what "in the past" means for recurrences */
    nt_err_t err;
    nt_err_clear(&err);
    PGresult *res =
        nt_pg_exec(c->pg, "SELECT (extract(epoch FROM nt_now()) * 1000)::bigint", 0, NULL, &err);
    if (res == NULL) {
        api_fail(c, 503, NULL, "%s", err.msg);
        goto out;
    }
    c->domain_now_ms = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    const char *fmt = api_str(c, "format");
    bool ics =
        (fmt != NULL && strcmp(fmt, "ics") == 0) ||
        (fmt == NULL &&
         ((c->content_type != NULL && strncasecmp(c->content_type, "text/calendar", 13) == 0) ||
          strncasecmp(text, "BEGIN:VCALENDAR", 15) == 0));
    if (fmt != NULL && strcmp(fmt, "ics") != 0 && strcmp(fmt, "csv") != 0) {
        api_fail(c, 400, "format", "field format: \"%.10s\" is not csv or ics", fmt);
        goto out;
    }
    if ((ics ? import_ical(c, &rows, text) : import_csv(c, &rows, text)) != 0)
        goto out;
    if (rows.n == 0) {
        api_fail(c, 400, "body", "nothing to import (every occurrence is in the past?)");
        goto out;
    }
    if (rows_insert(c, &rows) != 0)
        goto out;
    c->status = 201;
    rc = 0;
out:
    free(text);
    rows_free(&rows);
    return rc;
}
