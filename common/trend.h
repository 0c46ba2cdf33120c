/*
 * trend.h — trust-score trends: a least-squares line through a
 * registration's scores, its decay per quarter and when it crosses a
 * threshold (docs/policies.md, Trust trends).
 *
 * Time is in days relative to "now" (x <= 0 for past checks), so the line's
 * intercept is the fitted score now. PostgreSQL sums the points (count, sums
 * of x, y, x*x, x*y), which keeps the data where it is; the arithmetic is
 * here, pure and tested.
 */
#ifndef NT_TREND_H
#define NT_TREND_H

#include <stdbool.h>

#include "err.h"

#define NT_TREND_QUARTER_DAYS 91.3125 /* 365.25 / 4 */

typedef struct nt_trend_sums_s {
    double n, sx, sy, sxx, sxy;
} nt_trend_sums_t;

typedef struct nt_trend_s {
    double slope_per_day; /* score points per day; < 0: falling */
    double now;           /* the fitted score now */
    /* the relative fall over the last quarter of the line, in percent of its
     * value a quarter ago (> 0: falling; 0 when the line is flat or rising) */
    double decay_pct_quarter;
    /* days from now until the line reaches the threshold: 0 when already at
     * or below it, -1 when it never will (flat or rising) */
    double days_to_threshold;
} nt_trend_t;

/* Adds the point (x days, score y) to the sums. */
void nt_trend_add(nt_trend_sums_t *s, double x, double y);

/* Fits the line through the summed points and forecasts the threshold.
 * 0, or NT_EINVAL when fewer than two distinct times were summed. */
int nt_trend_fit(const nt_trend_sums_t *s, double threshold, nt_trend_t *out) NT_MUSTCHECK;

#endif
