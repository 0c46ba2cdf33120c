/*
 * sla.c — the service-level pass of the reconciler, `numtrust-producer sla`
 * and the business metrics (docs/policies.md).
 *
 * A pass is a table of steps, each one SQL statement (or a small C step)
 * over numtrust time: mark rates per tenant, platform, scenario and group
 * into hourly history; each tenant's status and the alert when it goes over
 * its target; service-level clocks opened for new marks, appeals and
 * scheduled labels, closed when the work is done, and met, near breach or
 * breached (with evidence and an alert); trust trends fitted
 * (common/trend.c); the numbers to check more often; quarantine. Alerts are
 * raised in the statement that notices them, with a dedupe key, so a pass
 * repeated or run by two daemons raises nothing twice.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "sla.h"
#include "trend.h"

static const char *const step_names[SLA_NSTEPS] = {
    "prices",      "mark_rates", "over_target", "clocks_opened", "clocks_done", "breached",
    "near_breach", "trends",     "risky",       "quarantined",   "released",    "cert_expiring",
};

const char *sla_step_name(sla_step_t step)
{
    return (unsigned)step < SLA_NSTEPS ? step_names[step] : "?";
}

#define NOW_CTE "WITH t AS MATERIALIZED (SELECT nt_now() AS now) "
/* $1 = sla.lookback_days; $2 = worker.appeal_marks (sql_open_clocks) */
#define LOOKBACK "($1::int * interval '1 day')"
/* the policy of a row's number: n (numbers) and ep (effective_policies) */
#define EP_OF(num)                                                                                 \
    " JOIN numbers n ON n.number = " num " JOIN effective_policies ep"                             \
    " ON ep.tenant_id = n.tenant_id AND ep.scenario_id = n.scenario_id"
#define EP_M  EP_OF("m.number")
#define EP_A  EP_OF("a.number")
#define EP_NP EP_OF("np.number")
#define EP_TT EP_OF("tt.number")
#define EP_Q  EP_OF("q.number")

/* The mark rate of every checked registration's tenant, per tenant,
 * platform, scenario and group, into the hour of numtrust time. */
static const char sql_mark_rates[] = NOW_CTE
    ", reg AS ("
    "  SELECT n.tenant_id, np.platform, n.scenario_id, n.number_group,"
    "         EXISTS (SELECT 1 FROM marks m WHERE m.number = np.number"
    "                 AND m.platform = np.platform AND m.state <> 'cleared'"
    "                 AND m.type = ANY(tp.rate_marks)) AS marked"
    "  FROM number_platforms np JOIN numbers n ON n.number = np.number"
    "  JOIN tenant_policies tp ON tp.tenant_id = n.tenant_id"
    "  WHERE np.last_checked_at IS NOT NULL"
    "), agg AS ("
    "  SELECT tenant_id, platform, scenario_id, number_group, GROUPING(platform) AS gp,"
    "         GROUPING(scenario_id) AS gs, GROUPING(number_group) AS gg, count(*) AS regs,"
    "         count(*) FILTER (WHERE marked) AS marked"
    "  FROM reg GROUP BY GROUPING SETS ((tenant_id), (tenant_id, platform),"
    "                                  (tenant_id, scenario_id), (tenant_id, number_group))"
    ") "
    "INSERT INTO mark_rates AS mr (tenant_id, dim, key, bucket, registrations, marked, rate,"
    "                              target, computed_at) "
    "SELECT a.tenant_id,"
    "       CASE WHEN a.gp = 0 THEN 'platform' WHEN a.gs = 0 THEN 'scenario'"
    "            WHEN a.gg = 0 THEN 'group' ELSE 'tenant' END,"
    "       COALESCE(CASE WHEN a.gp = 0 THEN a.platform WHEN a.gs = 0 THEN a.scenario_id"
    "                     WHEN a.gg = 0 THEN a.number_group END, ''),"
    "       date_trunc('hour', t.now), a.regs, a.marked, round(a.marked::numeric / a.regs, 6),"
    "       CASE WHEN a.gs = 0 THEN ep.max_mark_rate ELSE tp.max_mark_rate END, now()"
    " FROM agg a CROSS JOIN t JOIN tenant_policies tp ON tp.tenant_id = a.tenant_id"
    " LEFT JOIN effective_policies ep ON ep.tenant_id = a.tenant_id"
    "      AND ep.scenario_id = a.scenario_id "
    "ON CONFLICT (tenant_id, dim, key, bucket) DO UPDATE SET"
    "  registrations = EXCLUDED.registrations, marked = EXCLUDED.marked, rate = EXCLUDED.rate,"
    "  target = EXCLUDED.target, computed_at = EXCLUDED.computed_at";

/* Each tenant's latest figure; one alert per episode over the target (the
 * episode's start is in the dedupe key). */
static const char sql_over_target[] = NOW_CTE
    ", cur AS ("
    "  SELECT mr.tenant_id, mr.registrations, mr.marked, mr.rate, mr.target,"
    "         mr.rate > mr.target AS over"
    "  FROM mark_rates mr CROSS JOIN t"
    "  WHERE mr.dim = 'tenant' AND mr.key = '' AND mr.bucket = date_trunc('hour', t.now)"
    "), up AS ("
    "  INSERT INTO tenant_status AS s (tenant_id, registrations, marked, mark_rate, target,"
    "                                  over_target, over_since, updated_at)"
    "  SELECT c.tenant_id, c.registrations, c.marked, c.rate, c.target, c.over,"
    "         CASE WHEN c.over THEN t.now END, t.now FROM cur c CROSS JOIN t"
    "  ON CONFLICT (tenant_id) DO UPDATE SET registrations = EXCLUDED.registrations,"
    "    marked = EXCLUDED.marked, mark_rate = EXCLUDED.mark_rate, target = EXCLUDED.target,"
    "    over_target = EXCLUDED.over_target,"
    "    over_since = CASE WHEN NOT EXCLUDED.over_target THEN NULL"
    "                      WHEN s.over_target THEN s.over_since ELSE EXCLUDED.over_since END,"
    "    updated_at = EXCLUDED.updated_at"
    "  RETURNING s.*"
    ") "
    "SELECT count(*) FILTER (WHERE nt_alert('mark_rate_over_target', up.tenant_id, NULL, NULL,"
    "    'over_target:' || up.tenant_id || ':'"
    "        || (extract(epoch FROM up.over_since) * 1000)::bigint,"
    "    format('mark rate %s%% is over the target of %s%% (%s of %s checked registrations)',"
    "           round(up.mark_rate * 100, 2), round(up.target * 100, 2), up.marked,"
    "           up.registrations),"
    "    jsonb_build_object('mark_rate', up.mark_rate, 'target', up.target,"
    "                       'marked', up.marked, 'registrations', up.registrations,"
    "                       'since', up.over_since)))"
    " FROM up WHERE up.over_target";

/* New clocks: appealable marks (to be appealed within appeal_file_within),
 * appeals (decided within appeal_decide_within), qualification labels
 * (showing within qualification_within of their start) and campaign labels
 * (showing by the event's start, and at least qualification_within after
 * they are wanted). */
static const char sql_open_clocks[] = NOW_CTE
    ", nc AS ("
    "  SELECT 'appeal_filing' AS kind,"
    "         m.number || '|' || m.platform || '|' || m.type || '|'"
    "             || (extract(epoch FROM m.opened_at) * 1000)::bigint AS subject,"
    "         n.tenant_id, n.scenario_id, n.number_group, m.number, m.platform,"
    "         m.type::text AS detail, m.opened_at AS started_at,"
    "         ep.appeal_file_within AS target, ep.near_breach,"
    "         m.opened_at + ep.appeal_file_within AS due_at,"
    "         jsonb_build_object('mark', jsonb_build_object('type', m.type, 'count', m.count,"
    "             'opened_at', m.opened_at, 'detected_by', m.detected_by)) AS evidence"
    "  FROM marks m" EP_M " CROSS JOIN t"
    "  WHERE m.opened_at > t.now - " LOOKBACK " AND m.type = ANY(ep.appeal_marks)"
    "    AND m.type = ANY(string_to_array($2, ','))"
    "  UNION ALL"
    "  SELECT 'appeal_decision', a.job_id::text, n.tenant_id, n.scenario_id, n.number_group,"
    "         a.number, a.platform, a.ticket, a.filed_at, ep.appeal_decide_within,"
    "         ep.near_breach, a.filed_at + ep.appeal_decide_within,"
    "         jsonb_build_object('appeal', jsonb_build_object('job', a.job_id,"
    "             'mark_type', a.mark_type, 'ticket', a.ticket, 'filed_at', a.filed_at))"
    "  FROM appeals a" EP_A " CROSS JOIN t"
    "  WHERE a.filed_at > t.now - " LOOKBACK "  UNION ALL"
    "  SELECT 'qualification_label', ls.id || '|' || np.platform, n.tenant_id, n.scenario_id,"
    "         n.number_group, np.number, np.platform, ls.label, s.at, ep.qualification_within,"
    "         ep.near_breach, s.at + ep.qualification_within,"
    "         jsonb_build_object('schedule', jsonb_build_object('id', ls.id, 'kind', ls.kind,"
    "             'label', ls.label, 'event_start', ls.event_start, 'event_end', ls.event_end))"
    "  FROM label_schedules ls"
    "  JOIN number_platforms np ON np.number = ls.number"
    "       AND (ls.platform IS NULL OR ls.platform = np.platform)" EP_NP
    "  CROSS JOIN t CROSS JOIN LATERAL (SELECT greatest(ls.event_start, ls.created_at) AS at) s"
    "  WHERE ls.kind = 'qualification' AND s.at <= t.now AND s.at > t.now - " LOOKBACK
    "    AND (ls.event_end IS NULL OR ls.event_end > s.at)"
    "  UNION ALL"
    "  SELECT 'campaign_label', ls.id || '|' || np.platform, n.tenant_id, n.scenario_id,"
    "         n.number_group, np.number, np.platform, ls.label, s.at,"
    "         greatest(ls.event_start - s.at, ep.qualification_within), ep.near_breach,"
    "         s.at + greatest(ls.event_start - s.at, ep.qualification_within),"
    "         jsonb_build_object('schedule', jsonb_build_object('id', ls.id, 'kind', ls.kind,"
    "             'label', ls.label, 'event_start', ls.event_start, 'event_end', ls.event_end,"
    "             'lead', ls.event_start - s.at))"
    "  FROM label_schedules ls"
    "  JOIN number_platforms np ON np.number = ls.number"
    "       AND (ls.platform IS NULL OR ls.platform = np.platform)" EP_NP
    "  CROSS JOIN t CROSS JOIN LATERAL"
    "       (SELECT ls.event_start - COALESCE(ls.lead, ep.campaign_lead) AS at) s"
    "  WHERE ls.kind = 'campaign' AND s.at <= t.now AND s.at > t.now - " LOOKBACK
    "    AND (ls.event_end IS NULL OR ls.event_end > s.at)"
    ") "
    "INSERT INTO sla_clocks (kind, subject, tenant_id, scenario_id, number_group, number,"
    "                        platform, detail, started_at, near_at, due_at, evidence) "
    "SELECT kind, subject, tenant_id, scenario_id, number_group, number, platform, detail,"
    "       started_at, started_at + target * near_breach, due_at,"
    "       evidence || jsonb_build_object('target', target)"
    " FROM nc ON CONFLICT (kind, subject) DO NOTHING";

/* The live clocks (not finished, or breached and still not done) whose
 * work is now done: the first appeal filed for the mark's opening, the
 * appeal's decision, the first check showing the label. A mark cleared (or
 * opened again) before any appeal cancels its filing clock. */
static const char sql_done_clocks[] = NOW_CTE
    ", live AS ("
    "  SELECT c.* FROM sla_clocks c CROSS JOIN t"
    "  WHERE (c.status IN ('open', 'at_risk') OR (c.status = 'breached' AND c.done_at IS NULL))"
    "    AND c.started_at > t.now - 2 * " LOOKBACK "), d AS ("
    "  SELECT l.id, f.at, f.evidence, f.cancel FROM live l"
    "  CROSS JOIN LATERAL ("
    "    SELECT a.filed_at AS at, jsonb_build_object('appeal', jsonb_build_object("
    "               'job', a.job_id, 'ticket', a.ticket, 'filed_at', a.filed_at)) AS evidence,"
    "           false AS cancel"
    "    FROM appeals a WHERE l.kind = 'appeal_filing' AND a.number = l.number"
    "      AND a.platform = l.platform AND a.mark_type = l.detail AND a.filed_at >= l.started_at"
    "    UNION ALL"
    "    SELECT a.decided_at, jsonb_build_object('decision', jsonb_build_object("
    "               'state', a.state, 'decided_at', a.decided_at)), false"
    "    FROM appeals a WHERE l.kind = 'appeal_decision' AND a.job_id::text = l.subject"
    "      AND a.decided_at IS NOT NULL"
    "    UNION ALL"
    "    SELECT cr.checked_at, jsonb_build_object('shown', jsonb_build_object("
    "               'check_job', cr.job_id, 'checked_at', cr.checked_at)), false"
    "    FROM check_results cr"
    "    WHERE l.kind IN ('qualification_label', 'campaign_label') AND cr.number = l.number"
    "      AND cr.platform = l.platform AND cr.checked_at >= l.started_at"
    "      AND nt_sla_shows(cr.label_android, cr.label_ios, cr.label_search, l.detail)"
    "    UNION ALL"
    /* a label that showed before the clock started and still shows writes
     * no history row (009_history.sql): the latest check (a pass runs far
     * more often than a registration is checked) */
    "    SELECT np.last_checked_at, jsonb_build_object('shown', jsonb_build_object("
    "               'check_job', np.last_check_job, 'checked_at', np.last_checked_at)), false"
    "    FROM number_platforms np"
    "    WHERE l.kind IN ('qualification_label', 'campaign_label') AND np.number = l.number"
    "      AND np.platform = l.platform AND np.last_checked_at >= l.started_at"
    "      AND nt_sla_shows(np.label_android, np.label_ios, np.label_search, l.detail)"
    "    UNION ALL"
    "    SELECT COALESCE(m.cleared_at, m.opened_at), jsonb_build_object('cancelled', "
    "               CASE WHEN m.state = 'cleared' THEN 'mark cleared before an appeal'"
    "                    ELSE 'mark opened again' END), true"
    "    FROM marks m WHERE l.kind = 'appeal_filing' AND l.status <> 'breached'"
    "      AND m.number = l.number AND m.platform = l.platform AND m.type = l.detail"
    "      AND (m.state = 'cleared' OR m.opened_at > l.started_at)"
    "    ORDER BY 3, 1 LIMIT 1) f"
    ") "
    "UPDATE sla_clocks c SET done_at = d.at, evidence = c.evidence || d.evidence"
    "  || CASE WHEN c.status = 'breached' AND NOT d.cancel"
    "          THEN jsonb_build_object('done_at', d.at, 'late_by', d.at - c.due_at)"
    "          ELSE '{}'::jsonb END,"
    "  status = CASE WHEN d.cancel THEN 'cancelled' ELSE c.status END, updated_at = now()"
    " FROM d WHERE c.id = d.id";

/* Status of the live clocks; a change to near breach or breach raises its
 * alert. */
static const char sql_status_clocks[] = NOW_CTE
    ", s AS ("
    "  SELECT c.id, CASE"
    "      WHEN c.done_at IS NOT NULL AND c.done_at <= c.due_at THEN 'met'"
    "      WHEN c.done_at IS NOT NULL OR t.now > c.due_at THEN 'breached'"
    "      WHEN t.now >= c.near_at THEN 'at_risk' ELSE 'open' END AS status"
    "  FROM sla_clocks c CROSS JOIN t"
    "  WHERE c.status IN ('open', 'at_risk') OR (c.status = 'breached' AND c.done_at IS NULL)"
    "), up AS ("
    "  UPDATE sla_clocks c SET status = s.status, updated_at = now(),"
    "    breached_at = CASE WHEN s.status = 'breached' THEN t.now END,"
    "    evidence = c.evidence || CASE WHEN s.status = 'breached' THEN jsonb_build_object("
    "        'started_at', c.started_at, 'due_at', c.due_at, 'done_at', c.done_at,"
    "        'late_by', COALESCE(c.done_at, t.now) - c.due_at, 'recorded_at', t.now)"
    "        ELSE '{}'::jsonb END"
    "  FROM s CROSS JOIN t WHERE c.id = s.id AND c.status <> s.status"
    "  RETURNING c.*"
    ") "
    "SELECT count(*) FILTER (WHERE up.status = 'breached' AND nt_alert('sla_breach', up.tenant_id,"
    "           up.number, up.platform, 'sla_breach:' || up.id,"
    "           format('%s breached on %s: due %s, %s', up.kind, up.platform,"
    "                  to_char(up.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI UTC'),"
    "                  CASE WHEN up.done_at IS NULL THEN 'not done yet'"
    "                       ELSE 'done ' || (up.done_at - up.due_at) || ' late' END),"
    "           up.evidence || jsonb_build_object('kind', up.kind, 'detail', up.detail))),"
    "       count(*) FILTER (WHERE up.status = 'at_risk' AND nt_alert('sla_near_breach',"
    "           up.tenant_id, up.number, up.platform, 'sla_near:' || up.id,"
    "           format('%s on %s near breach: due %s', up.kind, up.platform,"
    "                  to_char(up.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI UTC')),"
    "           up.evidence || jsonb_build_object('kind', up.kind, 'detail', up.detail,"
    "               'started_at', up.started_at, 'due_at', up.due_at)))"
    " FROM up";

/* Registrations checked since their last fit (or whose data changed
 * under it), with the sums of their trust scores over sla.trend_days (x:
 * days before numtrust now). Every check's score is in the quarter sums
 * (009_history.sql: number_platforms.q_*, the open quarter, and q_hist, the
 * closed ones, seven numbers each), kept with t in days from the quarter's
 * start; shifted here to x = t + (quarter start - now). The window is whole
 * quarters: the open one and those ending within the last $2 days. $1 batch,
 * $2 days. */
static const char sql_trend_sums[] = NOW_CTE
    ", todo AS ("
    "  SELECT np.number, np.platform, n.tenant_id, n.scenario_id, np.last_checked_at,"
    "         np.trust_score, np.q_start, np.q_n, np.q_first, np.q_t, np.q_y, np.q_tt, np.q_ty,"
    "         np.q_hist"
    "  FROM number_platforms np JOIN numbers n ON n.number = np.number"
    "  LEFT JOIN trust_trends tt ON tt.number = np.number AND tt.platform = np.platform"
    "  WHERE np.last_checked_at IS NOT NULL"
    "    AND (tt.number IS NULL OR np.last_checked_at IS DISTINCT FROM tt.last_at)"
    "  LIMIT $1"
    "), b AS ("
    "  SELECT d.number, d.platform, d.tenant_id, d.scenario_id, d.last_checked_at,"
    "         d.trust_score AS last_score, q.*,"
    "         extract(epoch FROM (q.qs::timestamp AT TIME ZONE 'UTC') - t.now) / 86400.0 AS o"
    "  FROM todo d CROSS JOIN t CROSS JOIN LATERAL ("
    "    SELECT DATE '1970-01-01' + d.q_hist[7 * i + 1]::int AS qs, d.q_hist[7 * i + 2] AS n,"
    "           to_timestamp(d.q_hist[7 * i + 3]) AS first_at, d.q_hist[7 * i + 4] AS st,"
    "           d.q_hist[7 * i + 5] AS sy, d.q_hist[7 * i + 6] AS stt, d.q_hist[7 * i + 7] AS sty"
    "    FROM generate_series(0, COALESCE(array_length(d.q_hist, 1), 0) / 7 - 1) i"
    "    WHERE DATE '1970-01-01' + d.q_hist[7 * i + 1]::int + interval '3 months'"
    "          > t.now - $2::int * interval '1 day'"
    "    UNION ALL"
    "    SELECT d.q_start, d.q_n, d.q_first, d.q_t, d.q_y, d.q_tt, d.q_ty WHERE d.q_n > 0) q"
    ") "
    "SELECT b.number, b.platform, ep.trust_threshold, sum(b.n), sum(b.st + b.n * b.o), sum(b.sy),"
    "       sum(b.stt + 2 * b.o * b.st + b.n * b.o * b.o), sum(b.sty + b.o * b.sy),"
    "       min(b.first_at)::text, max(b.last_checked_at)::text, max(b.last_score),"
    "       min(t.now)::text, (extract(epoch FROM min(t.now)) * 1000)::bigint"
    " FROM b JOIN effective_policies ep ON ep.tenant_id = b.tenant_id"
    "      AND ep.scenario_id = b.scenario_id CROSS JOIN t"
    " WHERE b.last_score IS NOT NULL"
    " GROUP BY b.number, b.platform, ep.trust_threshold";

static const char sql_trend_write[] =
    "INSERT INTO trust_trends AS tt (number, platform, points, first_at, last_at, last_score,"
    "  slope_per_day, decay_pct_quarter, threshold, crosses_at, computed_at) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[],"
    "  $5::timestamptz[], $6::smallint[], $7::float8[], $8::float8[], $9::smallint[],"
    "  $10::timestamptz[], $11::timestamptz[]) "
    "ON CONFLICT (number, platform) DO UPDATE SET points = EXCLUDED.points,"
    "  first_at = EXCLUDED.first_at, last_at = EXCLUDED.last_at,"
    "  last_score = EXCLUDED.last_score, slope_per_day = EXCLUDED.slope_per_day,"
    "  decay_pct_quarter = EXCLUDED.decay_pct_quarter, threshold = EXCLUDED.threshold,"
    "  crosses_at = EXCLUDED.crosses_at, computed_at = EXCLUDED.computed_at";

/* Numbers to check more often: a recent mark not cleared, a trust score
 * falling (a trend of 3 points or more over a week or more), or callees
 * reporting a mark in the last 30 days. */
static const char sql_risk[] = NOW_CTE
    ", r AS ("
    "  SELECT number, max(reason) AS reason, max(since) AS since FROM ("
    "    SELECT m.number, 'recent_mark' AS reason, max(m.opened_at) AS since"
    "    FROM marks m" EP_M " CROSS JOIN t"
    "    WHERE m.state <> 'cleared' AND m.opened_at > t.now - ep.risk_mark_window"
    "    GROUP BY m.number"
    "    UNION ALL"
    "    SELECT tt.number, 'falling_trust', max(tt.computed_at)"
    "    FROM trust_trends tt" EP_TT
    "    WHERE ep.risk_trust_decay > 0 AND tt.decay_pct_quarter >= ep.risk_trust_decay"
    "      AND tt.points >= 3 AND tt.last_at - tt.first_at >= interval '7 days'"
    "    GROUP BY tt.number"
    "    UNION ALL"
    /* callees who reported a mark on their phone (the feedback intake, 007) */
    "    SELECT f.number, 'callee_reports', f.last_report_at FROM number_feedback_risk f"
    "    WHERE f.mark_reports_30d > 0) x"
    "  GROUP BY number"
    "), del AS ("
    "  DELETE FROM number_risk nr WHERE NOT EXISTS (SELECT 1 FROM r WHERE r.number = nr.number)"
    "), ins AS ("
    "  INSERT INTO number_risk (number, reason, since, computed_at)"
    "  SELECT r.number, r.reason, r.since, t.now FROM r CROSS JOIN t"
    "  ON CONFLICT (number) DO UPDATE SET reason = EXCLUDED.reason, since = EXCLUDED.since,"
    "    computed_at = EXCLUDED.computed_at"
    "  RETURNING 1"
    ") SELECT count(*) FROM ins";

/* Burned numbers into quarantine: fraud marks on quarantine_fraud_platforms
 * platforms or more, or a mark seen again after its appeal was approved;
 * the evidence newer than the number's last release. */
static const char sql_quarantine[] = NOW_CTE
    ", cand AS ("
    "  SELECT m.number, n.tenant_id, 'fraud_on_platforms' AS reason,"
    "         jsonb_build_object('platforms', jsonb_agg(jsonb_build_object("
    "             'platform', m.platform, 'count', m.count, 'opened_at', m.opened_at)"
    "             ORDER BY m.platform), 'threshold', ep.quarantine_fraud_platforms) AS evidence,"
    "         max(m.opened_at) AS newest"
    "  FROM marks m" EP_M
    "  WHERE m.type = 'fraud' AND m.state <> 'cleared' AND ep.quarantine_fraud_platforms > 0"
    "  GROUP BY m.number, n.tenant_id, ep.quarantine_fraud_platforms"
    "  HAVING count(DISTINCT m.platform) >= ep.quarantine_fraud_platforms"
    "  UNION ALL"
    "  SELECT m.number, n.tenant_id, 'mark_back_after_appeal',"
    "         jsonb_build_object('platform', m.platform, 'type', m.type, 'count', m.count,"
    "             'opened_at', m.opened_at, 'appeal', jsonb_build_object('job', a.job_id,"
    "             'ticket', a.ticket, 'decided_at', a.decided_at)),"
    "         m.opened_at"
    "  FROM marks m JOIN appeals a ON a.number = m.number AND a.platform = m.platform"
    "       AND a.mark_type = m.type" EP_M " CROSS JOIN t"
    "  WHERE a.state = 'approved' AND m.state <> 'cleared' AND m.opened_at > a.decided_at"
    "    AND m.opened_at > t.now - " LOOKBACK " AND m.type = ANY(ep.appeal_marks)"
    "), pick AS ("
    "  SELECT DISTINCT ON (c.number) c.* FROM cand c"
    "  WHERE NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.number = c.number"
    "                    AND (q.released_at IS NULL OR q.released_at >= c.newest))"
    "  ORDER BY c.number, c.reason"
    "), ins AS ("
    "  INSERT INTO quarantine (number, tenant_id, reason, evidence, since)"
    "  SELECT p.number, p.tenant_id, p.reason, p.evidence, t.now FROM pick p CROSS JOIN t"
    "  ON CONFLICT (number) WHERE released_at IS NULL DO NOTHING"
    "  RETURNING *"
    ") "
    "SELECT count(*) FILTER (WHERE nt_alert('number_quarantined', ins.tenant_id, ins.number,"
    "    NULL, 'quarantined:' || ins.id, format('%s quarantined: %s', ins.number, ins.reason),"
    "    ins.evidence || jsonb_build_object('reason', ins.reason, 'since', ins.since)))"
    " FROM ins";

/* Quarantined numbers whose appealed and fraud marks are all cleared
 * return after the cool-down, counted from the last clearing. */
static const char sql_release[] = NOW_CTE
    ", st AS ("
    "  SELECT q.id, ep.quarantine_cooldown AS cooldown,"
    "         NOT EXISTS (SELECT 1 FROM marks m WHERE m.number = q.number"
    "                     AND m.state <> 'cleared'"
    "                     AND (m.type = ANY(ep.appeal_marks) OR m.type = 'fraud')) AS clean,"
    "         greatest(q.since, (SELECT max(m.cleared_at) FROM marks m"
    "                            WHERE m.number = q.number)) AS clean_from"
    "  FROM quarantine q" EP_Q "  WHERE q.released_at IS NULL AND q.reason <> 'manual'"
    "), up AS ("
    "  UPDATE quarantine q SET"
    "    clean_since = CASE WHEN st.clean THEN st.clean_from END,"
    "    release_after = CASE WHEN st.clean THEN st.clean_from + st.cooldown END,"
    "    released_at = CASE WHEN st.clean AND st.clean_from + st.cooldown <= t.now"
    "                  THEN t.now END,"
    "    release_reason = CASE WHEN st.clean AND st.clean_from + st.cooldown <= t.now"
    "                     THEN 'cleared' END"
    "  FROM st CROSS JOIN t WHERE q.id = st.id"
    "    AND (q.clean_since IS DISTINCT FROM CASE WHEN st.clean THEN st.clean_from END"
    "         OR (st.clean AND st.clean_from + st.cooldown <= t.now))"
    "  RETURNING q.*"
    ") "
    "SELECT count(*) FILTER (WHERE nt_alert('number_released', up.tenant_id, up.number, NULL,"
    "    'released:' || up.id, format('%s released from quarantine: marks cleared since %s',"
    "    up.number, to_char(up.clean_since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI UTC')),"
    "    jsonb_build_object('reason', up.reason, 'since', up.since,"
    "                       'clean_since', up.clean_since, 'released_at', up.released_at)))"
    " FROM up WHERE up.released_at IS NOT NULL";

/* Certifications expiring within cert_warn_ahead (when registrations carry
 * an expiry: migration 005b). */
static const char sql_cert_expiring[] =
    NOW_CTE "SELECT count(*) FILTER (WHERE nt_alert('cert_expiring', n.tenant_id, np.number,"
            "    np.platform, x.dedupe, format('certification on %s expires %s', np.platform,"
            "    to_char(np.cert_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')),"
            "    jsonb_build_object('expires_at', np.cert_expires_at, 'cert_status', "
            "np.cert_status)))"
            " FROM number_platforms np" EP_NP " CROSS JOIN t"
            " CROSS JOIN LATERAL (SELECT 'cert_expiring:' || np.number || ':' || np.platform "
            "|| ':'"
            "     || (extract(epoch FROM np.cert_expires_at) * 1000)::bigint AS dedupe) x"
            " WHERE np.cert_status = 'certified' AND np.cert_expires_at > t.now"
            "   AND np.cert_expires_at <= t.now + ep.cert_warn_ahead"
            "   AND NOT EXISTS (SELECT 1 FROM alerts al WHERE al.dedupe = x.dedupe)";

static int count_of(PGresult *res, int col)
{
    if (PQntuples(res) < 1 || PQnfields(res) <= col)
        return (int)strtol(PQcmdTuples(res), NULL, 10);
    return (int)strtol(PQgetvalue(res, 0, col), NULL, 10);
}

/* Runs one statement; its count (the first column of a one-row answer, or
 * the rows it changed) into stats. */
static int step_sql(nt_pg_t *pg, const char *sql, int nparams, const char *const *params,
                    sla_stats_t *st, int step, int step2, nt_err_t *err)
{
    PGresult *res = nt_pg_exec(pg, sql, nparams, params, err);
    if (res == NULL)
        return err->code != 0 ? err->code : NT_ERR;
    bool rows = PQresultStatus(res) == PGRES_TUPLES_OK && PQnfields(res) > 0;
    st->counts[step] += (uint64_t)(rows ? count_of(res, 0) : atoi(PQcmdTuples(res)));
    if (step2 >= 0 && rows && PQnfields(res) > 1)
        st->counts[step2] += (uint64_t)count_of(res, 1);
    PQclear(res);
    return NT_OK;
}

/* Fits the trends of the registrations checked since their last fit. */
static int step_trends(cli_t *cli, nt_pg_t *pg, sla_stats_t *st, nt_err_t *err)
{
    char batch[16], days[16];
    nt_pg_array_t a[11];
    int rc = NT_OK;
    snprintf(batch, sizeof(batch), "%d", cli->cfg.sla_trend_batch);
    snprintf(days, sizeof(days), "%d", cli->cfg.sla_trend_days);
    const char *p[] = {batch, days};
    PGresult *res = nt_pg_exec(pg, sql_trend_sums, 2, p, err);
    if (res == NULL)
        return err->code != 0 ? err->code : NT_ERR;
    int rows = PQntuples(res);
    if (rows == 0) {
        PQclear(res);
        return NT_OK;
    }
    for (size_t i = 0; i < NT_ARRAY_LEN(a); i++)
        nt_pg_array_init(&a[i]);
    int64_t now_ms = strtoll(PQgetvalue(res, 0, 12), NULL, 10);
    for (int r = 0; rc == NT_OK && r < rows; r++) {
        nt_trend_sums_t s = {
            strtod(PQgetvalue(res, r, 3), NULL), strtod(PQgetvalue(res, r, 4), NULL),
            strtod(PQgetvalue(res, r, 5), NULL), strtod(PQgetvalue(res, r, 6), NULL),
            strtod(PQgetvalue(res, r, 7), NULL)};
        double threshold = strtod(PQgetvalue(res, r, 2), NULL);
        nt_trend_t t = {0, 0, 0, -1};
        if (nt_trend_fit(&s, threshold, &t) != NT_OK)
            t.days_to_threshold = -1; /* one point: nothing to forecast yet */
        char slope[32], decay[32], crosses[NT_RFC3339_LEN];
        snprintf(slope, sizeof(slope), "%.9g", t.slope_per_day);
        snprintf(decay, sizeof(decay), "%.9g", t.decay_pct_quarter);
        /* a forecast beyond a century is no forecast */
        if (t.days_to_threshold > 36525)
            t.days_to_threshold = -1;
        if (t.days_to_threshold >= 0)
            nt_clock_format(now_ms + (int64_t)llround(t.days_to_threshold * 86400000.0), crosses);
        rc = nt_pg_array_add_str(&a[0], PQgetvalue(res, r, 0));
        if (rc == NT_OK)
            rc = nt_pg_array_add_str(&a[1], PQgetvalue(res, r, 1));
        if (rc == NT_OK)
            rc = nt_pg_array_add_str(&a[2], PQgetvalue(res, r, 3));
        if (rc == NT_OK)
            rc = nt_pg_array_add_str(&a[3], PQgetvalue(res, r, 8));
        if (rc == NT_OK)
            rc = nt_pg_array_add_str(&a[4], PQgetvalue(res, r, 9));
        if (rc == NT_OK)
            rc = nt_pg_array_add_str(&a[5], PQgetvalue(res, r, 10));
        if (rc == NT_OK)
            rc = nt_pg_array_add_str(&a[6], slope);
        if (rc == NT_OK)
            rc = nt_pg_array_add_str(&a[7], decay);
        if (rc == NT_OK)
            rc = nt_pg_array_add_str(&a[8], PQgetvalue(res, r, 2));
        if (rc == NT_OK)
            rc = nt_pg_array_add_str(&a[9], t.days_to_threshold >= 0 ? crosses : NULL);
        if (rc == NT_OK)
            rc = nt_pg_array_add_str(&a[10], PQgetvalue(res, r, 11));
    }
    PQclear(res);
    if (rc != NT_OK) {
        nt_err_set(err, rc, false, "trend arrays: out of memory");
    } else {
        const char *wp[11];
        for (size_t i = 0; i < NT_ARRAY_LEN(a); i++)
            wp[i] = nt_pg_array_text(&a[i]);
        rc = nt_pg_run(pg, sql_trend_write, 11, wp, err);
        if (rc == NT_OK)
            st->counts[SLA_TRENDS] += (uint64_t)rows;
    }
    for (size_t i = 0; i < NT_ARRAY_LEN(a); i++)
        nt_pg_array_free(&a[i]);
    return rc;
}

static bool has_cert_expiry(nt_pg_t *pg, nt_err_t *err)
{
    PGresult *res = nt_pg_exec(pg,
                               "SELECT 1 FROM information_schema.columns WHERE table_name = "
                               "'number_platforms' AND column_name = 'cert_expires_at'",
                               0, NULL, err);
    bool yes = res != NULL && PQntuples(res) > 0;
    PQclear(res);
    return yes;
}

int sla_pass(cli_t *cli, nt_pg_t *pg, sla_stats_t *st, nt_err_t *err)
{
    char lookback[16];
    int64_t t0 = nt_clock_mono_ms();
    int rc = NT_OK;
    const nt_platforms_t *ps = cli_platforms(cli);

    memset(st, 0, sizeof(*st));
    snprintf(lookback, sizeof(lookback), "%d", cli->cfg.sla_lookback_days);
    const char *lb[] = {lookback};
    const char *lbm[] = {lookback, cli->cfg.worker_appeal_marks};
    if (ps == NULL)
        return nt_err_set(err, NT_EINVAL, false, "cannot load %s", cli->cfg.platforms_file);
    rc = costs_sync_prices(ps, pg, &st->counts[SLA_PRICES], err);
    if (rc == NT_OK)
        rc = step_sql(pg, sql_mark_rates, 0, NULL, st, SLA_MARK_RATES, -1, err);
    if (rc == NT_OK)
        rc = step_sql(pg, sql_over_target, 0, NULL, st, SLA_OVER_TARGET, -1, err);
    if (rc == NT_OK)
        rc = step_sql(pg, sql_open_clocks, 2, lbm, st, SLA_CLOCKS_OPENED, -1, err);
    if (rc == NT_OK)
        rc = step_sql(pg, sql_done_clocks, 1, lb, st, SLA_CLOCKS_DONE, -1, err);
    if (rc == NT_OK)
        rc = step_sql(pg, sql_status_clocks, 0, NULL, st, SLA_BREACHED, SLA_NEAR_BREACH, err);
    if (rc == NT_OK)
        rc = step_trends(cli, pg, st, err);
    if (rc == NT_OK)
        rc = step_sql(pg, sql_risk, 0, NULL, st, SLA_RISKY, -1, err);
    if (rc == NT_OK)
        rc = step_sql(pg, sql_quarantine, 1, lb, st, SLA_QUARANTINED, -1, err);
    if (rc == NT_OK)
        rc = step_sql(pg, sql_release, 0, NULL, st, SLA_RELEASED, -1, err);
    if (rc == NT_OK && has_cert_expiry(pg, err))
        rc = step_sql(pg, sql_cert_expiring, 0, NULL, st, SLA_CERT_EXPIRING, -1, err);
    st->ms = nt_clock_mono_ms() - t0;
    return rc;
}

/* ---- business metrics ---- */

typedef struct family_s {
    const char *name, *type, *help;
    const char *sql; /* rows: the label set ("tenant=\"acme\""), the value */
} family_t;

static const family_t families[] = {
    {"numtrust_tenant_mark_rate", "gauge",
     "Share of the tenant's checked registrations showing a rate mark (policy rate_marks).",
     "SELECT 'tenant=\"' || tenant_id || '\"', mark_rate FROM tenant_status ORDER BY 1"},
    {"numtrust_tenant_mark_rate_target", "gauge", "The tenant's policy max_mark_rate.",
     "SELECT 'tenant=\"' || tenant_id || '\"', target FROM tenant_status ORDER BY 1"},
    {"numtrust_tenant_over_target", "gauge", "1 while the tenant's mark rate is over its target.",
     "SELECT 'tenant=\"' || tenant_id || '\"', over_target::int FROM tenant_status ORDER BY 1"},
    {"numtrust_sla_clocks", "gauge",
     "Service-level clocks by kind and status (met and breached ones are kept).",
     "SELECT 'kind=\"' || kind || '\",status=\"' || status || '\"', count(*) FROM sla_clocks"
     " GROUP BY kind, status ORDER BY 1"},
    {"numtrust_alerts_total", "counter", "Alerts raised, by event.",
     "SELECT 'event=\"' || event || '\"', count(*) FROM alerts GROUP BY event ORDER BY 1"},
    {"numtrust_alert_deliveries", "gauge",
     "Webhook deliveries in the outbox by state (pending, delivered, dead).",
     "SELECT 'state=\"' || state || '\"', count(*) FROM alert_deliveries GROUP BY state"
     " ORDER BY 1"},
    {"numtrust_quarantined_numbers", "gauge", "Numbers in quarantine, by tenant.",
     "SELECT 'tenant=\"' || tenant_id || '\"', count(*) FROM quarantined_numbers"
     " GROUP BY tenant_id ORDER BY 1"},
    {"numtrust_cost_month", "gauge",
     "Platform operations this month (numtrust time), by tenant and currency.",
     "SELECT 'tenant=\"' || tenant_id || '\",currency=\"' || currency || '\"', sum(amount)"
     " FROM cost_ledger WHERE month = nt_month(nt_now()) GROUP BY tenant_id, currency"
     " ORDER BY 1"},
    {"numtrust_budget_month", "gauge", "The tenant's monthly budget (tenants with a cap).",
     "SELECT 'tenant=\"' || tenant_id || '\",currency=\"' || currency || '\"', budget"
     " FROM tenant_budgets WHERE budget <> 'Infinity' ORDER BY 1"},
};

int sla_metrics_text(nt_pg_t *pg, nt_buf_t *out, nt_err_t *err)
{
    int rc = NT_OK;
    nt_buf_reset(out);
    for (size_t f = 0; rc == NT_OK && f < NT_ARRAY_LEN(families); f++) {
        PGresult *res = nt_pg_exec(pg, families[f].sql, 0, NULL, err);
        if (res == NULL)
            return err->code != 0 ? err->code : NT_ERR;
        rc = nt_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help,
                           families[f].name, families[f].type);
        for (int r = 0; rc == NT_OK && r < PQntuples(res); r++)
            rc = nt_buf_printf(out, "%s{%s} %s\n", families[f].name, PQgetvalue(res, r, 0),
                               PQgetvalue(res, r, 1));
        PQclear(res);
    }
    if (rc != NT_OK)
        nt_err_set(err, rc, false, "metrics text: out of memory");
    return rc;
}
