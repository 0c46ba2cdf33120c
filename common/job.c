/*
 * job.c — job envelope encode / decode / validate (see job.h).
 *
 * Decoding checks the cheap things first (size, UTF-8) so that a hostile
 * message costs as little as possible, then parses with cJSON and copies the
 * fields into fixed-size arrays: a decoded job owns no heap memory.
 */
#include "job.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "phone.h"

static const char *const type_names[NT_JOB_NTYPES] = {"check",         "tag_update", "appeal",
                                                      "appeal_status", "tag_status", "renewal"};

/* The taxonomy of design.md; order is the taxonomy order used for ties. */
static const char *const mark_types[] = {"harassment",  "fraud",    "agency", "finance",
                                         "advertising", "delivery", "taxi",   "other"};

const char *nt_job_type_name(nt_job_type_t type)
{
    if ((unsigned)type >= NT_JOB_NTYPES)
        return "unknown";
    return type_names[type];
}

int nt_job_type_parse(const char *s, nt_job_type_t *type)
{
    for (int i = 0; i < NT_JOB_NTYPES; i++) {
        if (strcmp(s, type_names[i]) == 0) {
            *type = (nt_job_type_t)i;
            return NT_OK;
        }
    }
    return NT_EINVAL;
}

bool nt_job_is_mark_type(const char *s)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(mark_types); i++)
        if (strcmp(s, mark_types[i]) == 0)
            return true;
    return false;
}

void nt_job_init(nt_job_t *job)
{
    memset(job, 0, sizeof(*job));
    job->v = NT_JOB_VERSION;
}

void nt_job_clear(nt_job_t *job)
{
    free(job->evidence);
    nt_job_init(job);
}

int nt_job_set_evidence(nt_job_t *job, const char *evidence)
{
    free(job->evidence);
    job->evidence = NULL;
    if (evidence == NULL || evidence[0] == '\0')
        return NT_OK;
    if (strlen(evidence) >= NT_JOB_EVIDENCE_MAX)
        return NT_EINVAL;
    job->evidence = strdup(evidence);
    return job->evidence != NULL ? NT_OK : NT_ENOMEM;
}

const char *nt_job_evidence(const nt_job_t *job)
{
    return job->evidence != NULL ? job->evidence : "";
}

int nt_job_copy(nt_job_t *dst, const nt_job_t *src)
{
    *dst = *src;
    dst->evidence = NULL;
    return nt_job_set_evidence(dst, src->evidence);
}

static bool is_platform_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= NT_JOB_PLATFORM_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'));
        if (!ok)
            return false;
    }
    return true;
}

int nt_job_build_appeal(nt_job_t *job, const nt_appeal_spec_t *spec, nt_err_t *err)
{
    /* built aside: spec's strings may point into *job (enqueue fills the
     * registration into the job first) */
    nt_job_t a;
    char period[32];
    const char *tenant = spec->tenant != NULL && spec->tenant[0] ? spec->tenant : "unknown";
    nt_job_init(&a);
    a.type = NT_JOB_APPEAL;
    snprintf(a.number, sizeof(a.number), "%s", spec->number ? spec->number : "");
    snprintf(a.platform, sizeof(a.platform), "%s", spec->platform ? spec->platform : "");
    snprintf(a.tenant, sizeof(a.tenant), "%s", tenant);
    snprintf(a.mark_type, sizeof(a.mark_type), "%s", spec->mark_type ? spec->mark_type : "");
    char evidence[NT_JOB_EVIDENCE_MAX];
    snprintf(evidence, sizeof(evidence),
             "Number verified for enterprise %s; the %s mark is disputed, qualification on file.%s",
             a.tenant, a.mark_type, spec->extra_evidence ? spec->extra_evidence : "");
    if (nt_job_set_evidence(&a, evidence) != NT_OK) {
        *job = a; /* without evidence: the caller may clear it as any built job */
        if (err != NULL)
            nt_err_set(err, NT_ENOMEM, false, "out of memory");
        return NT_ENOMEM;
    }
    a.created_at_ms = spec->now_ms;
    snprintf(period, sizeof(period), "%lld", (long long)spec->opened_ms);
    nt_job_make_id(&a, a.mark_type, period);
    *job = a; /* overwritten, not freed, as nt_job_init does */
    return nt_job_validate(job, err);
}

const char *nt_job_idempotency_key(const nt_job_t *job)
{
    return job->origin[0] ? job->origin : job->id;
}

bool nt_job_is_tenant_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= NT_JOB_TENANT_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (i > 0 && (c == '_' || c == '-' || c == '.'));
        if (!ok)
            return false;
    }
    return true;
}

/* Copies a string member; false when absent, not a string or too long. */
static bool get_str(const cJSON *obj, const char *name, char *out, size_t outsz, bool *too_long)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    *too_long = false;
    if (!cJSON_IsString(it) || it->valuestring == NULL)
        return false;
    size_t n = strlen(it->valuestring);
    if (n >= outsz) {
        *too_long = true;
        /* keep a truncated copy for the failure record */
        memcpy(out, it->valuestring, outsz - 1);
        out[outsz - 1] = '\0';
        /* do not cut a UTF-8 sequence in half */
        size_t k = outsz - 1;
        while (k > 0 && ((unsigned char)out[k - 1] & 0xC0) == 0x80)
            k--;
        if (k > 0 && ((unsigned char)out[k - 1] & 0x80))
            out[k - 1] = '\0';
        return true;
    }
    memcpy(out, it->valuestring, n + 1);
    return true;
}

static int get_time(const cJSON *obj, const char *name, bool required, int64_t *ms, nt_err_t *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    *ms = 0;
    if (it == NULL || cJSON_IsNull(it)) {
        if (required)
            return nt_err_set(err, NT_EINVAL, false, "field %s: missing", name);
        return NT_OK;
    }
    if (!cJSON_IsString(it) || nt_clock_parse(it->valuestring, ms) != NT_OK)
        return nt_err_set(err, NT_EINVAL, false, "field %s: not an RFC 3339 timestamp", name);
    return NT_OK;
}

/* True when the len bytes at data contain the NUL-terminated needle. */
static bool contains(const void *data, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    const char *p = data;
    for (size_t i = 0; i + n <= len; i++)
        if (p[i] == needle[0] && memcmp(p + i, needle, n) == 0)
            return true;
    return false;
}

static int decode_payload(const cJSON *root, nt_job_t *job, nt_err_t *err)
{
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(root, "payload");
    bool too_long;
    if (payload != NULL && !cJSON_IsNull(payload) && !cJSON_IsObject(payload))
        return nt_err_set(err, NT_EINVAL, false, "field payload: not an object");
    switch (job->type) {
    case NT_JOB_CHECK:
    case NT_JOB_RENEWAL:
        return NT_OK;
    case NT_JOB_TAG_STATUS:
        if (!get_str(payload, "ticket", job->ticket, sizeof(job->ticket), &too_long))
            return nt_err_set(err, NT_EINVAL, false, "field payload.ticket: missing");
        if (too_long)
            return nt_err_set(err, NT_EINVAL, false, "field payload.ticket: too long");
        if (get_str(payload, "label", job->label, sizeof(job->label), &too_long) && too_long)
            return nt_err_set(err, NT_EINVAL, false, "field payload.label: longer than %d bytes",
                              NT_JOB_LABEL_MAX - 1);
        return NT_OK;
    case NT_JOB_TAG_UPDATE:
        if (!get_str(payload, "label", job->label, sizeof(job->label), &too_long))
            return nt_err_set(err, NT_EINVAL, false, "field payload.label: missing");
        if (too_long)
            return nt_err_set(err, NT_EINVAL, false, "field payload.label: longer than %d bytes",
                              NT_JOB_LABEL_MAX - 1);
        return NT_OK;
    case NT_JOB_APPEAL:
    case NT_JOB_APPEAL_STATUS:
        if (!get_str(payload, "mark_type", job->mark_type, sizeof(job->mark_type), &too_long))
            return nt_err_set(err, NT_EINVAL, false, "field payload.mark_type: missing");
        if (too_long)
            return nt_err_set(err, NT_EINVAL, false, "field payload.mark_type: too long");
        if (job->type == NT_JOB_APPEAL) {
            char ev[NT_JOB_EVIDENCE_MAX];
            if (get_str(payload, "evidence", ev, sizeof(ev), &too_long)) {
                if (too_long)
                    return nt_err_set(err, NT_EINVAL, false,
                                      "field payload.evidence: longer than %d bytes",
                                      NT_JOB_EVIDENCE_MAX - 1);
                if (nt_job_set_evidence(job, ev) != NT_OK)
                    return nt_err_set(err, NT_ENOMEM, false, "out of memory");
            }
            return NT_OK;
        }
        if (!get_str(payload, "ticket", job->ticket, sizeof(job->ticket), &too_long))
            return nt_err_set(err, NT_EINVAL, false, "field payload.ticket: missing");
        if (too_long)
            return nt_err_set(err, NT_EINVAL, false, "field payload.ticket: too long");
        if (get_str(payload, "appeal_job", job->appeal_job, sizeof(job->appeal_job), &too_long) &&
            (too_long || !nt_uuid_is_valid(job->appeal_job)))
            return nt_err_set(err, NT_EINVAL, false, "field payload.appeal_job: not a UUID");
        return NT_OK;
    }
    return nt_err_set(err, NT_EINVAL, false, "unknown job type");
}

nt_job_verdict_t nt_job_decode(const void *data, size_t len, size_t max_bytes, nt_job_t *job,
                               nt_err_t *err)
{
    cJSON *root = NULL;
    nt_job_verdict_t verdict = NT_JOB_VERDICT_POISON;
    bool too_long;
    char type[32];

    nt_job_init(job);
    nt_err_clear(err);
    if (data == NULL || len == 0) {
        nt_err_set(err, NT_EINVAL, false, "empty message");
        goto out;
    }
    if (len > max_bytes) {
        nt_err_set(err, NT_ETOOBIG, false, "message of %zu bytes exceeds job.max_bytes %zu", len,
                   max_bytes);
        goto out;
    }
    if (!nt_buf_is_utf8(data, len) || memchr(data, '\0', len) != NULL) {
        nt_err_set(err, NT_EINVAL, false, "message is not valid UTF-8 text");
        goto out;
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    if (root == NULL || !cJSON_IsObject(root)) {
        nt_err_set(err, NT_EINVAL, false, "message is not a JSON object");
        goto out;
    }
    /* one object and nothing after it but whitespace */
    const char *stop = (const char *)data + len;
    while (end != NULL && end < stop &&
           (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end != stop) {
        nt_err_set(err, NT_EINVAL, false, "message has bytes after its JSON object");
        goto out;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "v");
    if (!cJSON_IsNumber(v) || v->valuedouble != NT_JOB_VERSION) {
        nt_err_set(err, NT_EINVAL, false, "unknown envelope version (want v=%d)", NT_JOB_VERSION);
        goto out;
    }
    if (!get_str(root, "id", job->id, sizeof(job->id), &too_long) || too_long ||
        !nt_uuid_is_valid(job->id)) {
        job->id[0] = '\0';
        nt_err_set(err, NT_EINVAL, false, "field id: missing or not a UUID");
        goto out;
    }
    /* From here on the job can be recorded under its id. */
    for (char *p = job->id; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    verdict = NT_JOB_VERDICT_INVALID;
    job->type = (nt_job_type_t)NT_JOB_NTYPES; /* "unknown" until parsed */
    static const struct {
        const char *name;
        size_t off, size;
    } fields[] = {
        {"number", offsetof(nt_job_t, number), sizeof(job->number)},
        {"platform", offsetof(nt_job_t, platform), sizeof(job->platform)},
        {"tenant", offsetof(nt_job_t, tenant), sizeof(job->tenant)},
        {"trace_id", offsetof(nt_job_t, trace_id), sizeof(job->trace_id)},
    };
    const char *too_long_field = NULL;
    for (size_t i = 0; i < NT_ARRAY_LEN(fields); i++) {
        if (get_str(root, fields[i].name, (char *)job + fields[i].off, fields[i].size, &too_long) &&
            too_long && too_long_field == NULL)
            too_long_field = fields[i].name;
    }
    if (!get_str(root, "type", type, sizeof(type), &too_long) || too_long ||
        nt_job_type_parse(type, &job->type) != NT_OK) {
        nt_err_set(err, NT_EINVAL, false, "field type: missing or unknown");
        goto out;
    }
    if (too_long_field != NULL) {
        nt_err_set(err, NT_EINVAL, false, "field %s: longer than its limit", too_long_field);
        goto out;
    }
    /* cJSON decodes \u0000 into a string that strlen cuts short: refuse it
     * rather than store a value other than the one sent */
    if (contains(data, len, "\\u0000")) {
        nt_err_set(err, NT_EINVAL, false, "a string field contains \\u0000");
        goto out;
    }

    const cJSON *attempt = cJSON_GetObjectItemCaseSensitive(root, "attempt");
    if (attempt != NULL) {
        if (!cJSON_IsNumber(attempt) || attempt->valuedouble < 0 ||
            attempt->valuedouble > NT_JOB_MAX_ATTEMPT ||
            attempt->valuedouble != (double)(int)attempt->valuedouble) {
            nt_err_set(err, NT_EINVAL, false, "field attempt: not an integer in [0, %d]",
                       NT_JOB_MAX_ATTEMPT);
            goto out;
        }
        job->attempt = (int)attempt->valuedouble;
    }
    const cJSON *origin = cJSON_GetObjectItemCaseSensitive(root, "origin");
    if (origin != NULL && !cJSON_IsNull(origin)) {
        if (!get_str(root, "origin", job->origin, sizeof(job->origin), &too_long) || too_long ||
            !nt_uuid_is_valid(job->origin)) {
            job->origin[0] = '\0';
            nt_err_set(err, NT_EINVAL, false, "field origin: not a UUID");
            goto out;
        }
        for (char *p = job->origin; *p; p++)
            if (*p >= 'A' && *p <= 'F')
                *p = (char)(*p - 'A' + 'a');
    }
    if (get_time(root, "created_at", false, &job->created_at_ms, err) != NT_OK ||
        get_time(root, "not_before", false, &job->not_before_ms, err) != NT_OK)
        goto out;
    /* 0 means "no not_before"; a time at or before the epoch means due at
     * once, kept as 1 ms so that encoding and decoding again agree */
    if (cJSON_GetObjectItemCaseSensitive(root, "not_before") != NULL && job->not_before_ms <= 0)
        job->not_before_ms = 1;
    if (decode_payload(root, job, err) != NT_OK)
        goto out;
    if (nt_job_validate(job, err) != NT_OK)
        goto out;
    verdict = NT_JOB_VERDICT_OK;
out:
    cJSON_Delete(root);
    return verdict;
}

int nt_job_validate(const nt_job_t *job, nt_err_t *err)
{
    char masked[NT_PHONE_MAX + 8];
    if (job->v != NT_JOB_VERSION)
        return nt_err_set(err, NT_EINVAL, false, "field v: %d is not %d", job->v, NT_JOB_VERSION);
    if (!nt_uuid_is_valid(job->id))
        return nt_err_set(err, NT_EINVAL, false, "field id: \"%s\" is not a UUID", job->id);
    if ((unsigned)job->type >= NT_JOB_NTYPES)
        return nt_err_set(err, NT_EINVAL, false, "field type: unknown");
    if (!nt_phone_is_e164(job->number)) {
        nt_phone_mask(job->number, strlen(job->number), masked, sizeof(masked));
        return nt_err_set(err, NT_EINVAL, false, "field number: \"%s\" is not an E.164 number",
                          masked);
    }
    if (!is_platform_id(job->platform))
        return nt_err_set(err, NT_EINVAL, false,
                          "field platform: \"%s\" is not a platform id ([a-z0-9_-], 1-63)",
                          job->platform);
    if (!nt_job_is_tenant_id(job->tenant))
        return nt_err_set(err, NT_EINVAL, false,
                          "field tenant: \"%s\" is not a tenant id ([A-Za-z0-9_.-], 1-63)",
                          job->tenant);
    if (job->origin[0] != '\0' && !nt_uuid_is_valid(job->origin))
        return nt_err_set(err, NT_EINVAL, false, "field origin: \"%s\" is not a UUID", job->origin);
    if (job->attempt < 0 || job->attempt > NT_JOB_MAX_ATTEMPT)
        return nt_err_set(err, NT_EINVAL, false, "field attempt: %d out of range", job->attempt);
    switch (job->type) {
    case NT_JOB_CHECK:
    case NT_JOB_RENEWAL:
        break;
    case NT_JOB_TAG_STATUS:
        if (job->ticket[0] == '\0')
            return nt_err_set(err, NT_EINVAL, false, "field payload.ticket: empty");
        break;
    case NT_JOB_TAG_UPDATE: {
        size_t chars = nt_buf_utf8_chars(job->label);
        if (chars == 0 || chars > 64 || !nt_buf_is_utf8(job->label, strlen(job->label)))
            return nt_err_set(err, NT_EINVAL, false,
                              "field payload.label: must be 1-64 characters of UTF-8");
        break;
    }
    case NT_JOB_APPEAL:
    case NT_JOB_APPEAL_STATUS:
        if (!nt_job_is_mark_type(job->mark_type))
            return nt_err_set(err, NT_EINVAL, false,
                              "field payload.mark_type: \"%s\" is not a mark type", job->mark_type);
        if (job->type == NT_JOB_APPEAL_STATUS && job->ticket[0] == '\0')
            return nt_err_set(err, NT_EINVAL, false, "field payload.ticket: empty");
        break;
    }
    return NT_OK;
}

static int put_kv_str(nt_buf_t *out, const char *key, const char *val, bool comma)
{
    int rc = nt_buf_printf(out, "%s\"%s\":", comma ? "," : "", key);
    if (rc == NT_OK)
        rc = nt_buf_json_str(out, val, strlen(val));
    return rc;
}

int nt_job_encode(const nt_job_t *job, nt_buf_t *out)
{
    char ts[NT_RFC3339_LEN];
    int rc = nt_buf_printf(out, "{\"v\":%d", job->v);
    if (rc == NT_OK)
        rc = put_kv_str(out, "id", job->id, true);
    if (rc == NT_OK)
        rc = put_kv_str(out, "type", nt_job_type_name(job->type), true);
    if (rc == NT_OK)
        rc = put_kv_str(out, "number", job->number, true);
    if (rc == NT_OK)
        rc = put_kv_str(out, "platform", job->platform, true);
    if (rc == NT_OK)
        rc = put_kv_str(out, "tenant", job->tenant, true);
    if (rc == NT_OK)
        rc = nt_buf_printf(out, ",\"attempt\":%d", job->attempt);
    if (rc == NT_OK && job->not_before_ms > 0) {
        nt_clock_format(job->not_before_ms, ts);
        rc = put_kv_str(out, "not_before", ts, true);
    }
    if (rc == NT_OK) {
        nt_clock_format(job->created_at_ms, ts);
        rc = put_kv_str(out, "created_at", ts, true);
    }
    if (rc == NT_OK && job->trace_id[0])
        rc = put_kv_str(out, "trace_id", job->trace_id, true);
    if (rc == NT_OK && job->origin[0])
        rc = put_kv_str(out, "origin", job->origin, true);
    if (rc == NT_OK)
        rc = nt_buf_puts(out, ",\"payload\":{");
    switch (job->type) {
    case NT_JOB_CHECK:
    case NT_JOB_RENEWAL:
        break;
    case NT_JOB_TAG_UPDATE:
        if (rc == NT_OK)
            rc = put_kv_str(out, "label", job->label, false);
        break;
    case NT_JOB_TAG_STATUS:
        if (rc == NT_OK)
            rc = put_kv_str(out, "ticket", job->ticket, false);
        if (rc == NT_OK && job->label[0])
            rc = put_kv_str(out, "label", job->label, true);
        break;
    case NT_JOB_APPEAL:
        if (rc == NT_OK)
            rc = put_kv_str(out, "mark_type", job->mark_type, false);
        if (rc == NT_OK)
            rc = put_kv_str(out, "evidence", nt_job_evidence(job), true);
        break;
    case NT_JOB_APPEAL_STATUS:
        if (rc == NT_OK)
            rc = put_kv_str(out, "mark_type", job->mark_type, false);
        if (rc == NT_OK)
            rc = put_kv_str(out, "ticket", job->ticket, true);
        if (rc == NT_OK && job->appeal_job[0])
            rc = put_kv_str(out, "appeal_job", job->appeal_job, true);
        break;
    }
    if (rc == NT_OK)
        rc = nt_buf_puts(out, "}}");
    return rc;
}

void nt_job_make_id(nt_job_t *job, const char *extra, const char *period)
{
    const char *fields[] = {nt_job_type_name(job->type), job->number, job->platform, extra, period};
    nt_uuid_v5_fields(job->id, fields, NT_ARRAY_LEN(fields));
}
