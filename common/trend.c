/*
 * trend.c — least-squares trust trends and threshold forecasts (see
 * trend.h).
 */
#include "trend.h"

#include <math.h>

void nt_trend_add(nt_trend_sums_t *s, double x, double y)
{
    s->n += 1;
    s->sx += x;
    s->sy += y;
    s->sxx += x * x;
    s->sxy += x * y;
}

int nt_trend_fit(const nt_trend_sums_t *s, double threshold, nt_trend_t *out)
{
    if (s->n < 2)
        return NT_EINVAL;
    double sxx = s->sxx - s->sx * s->sx / s->n; /* n * variance of x */
    if (!(sxx > 1e-9 * (1 + fabs(s->sxx))))
        return NT_EINVAL; /* every point at the same time */
    double slope = (s->sxy - s->sx * s->sy / s->n) / sxx;
    double now = (s->sy - slope * s->sx) / s->n;
    out->slope_per_day = slope;
    out->now = now;
    double before = now - slope * NT_TREND_QUARTER_DAYS;
    out->decay_pct_quarter = slope < 0 && before > 0 ? 100.0 * (before - now) / before : 0;
    if (now <= threshold)
        out->days_to_threshold = 0;
    else if (slope < 0)
        out->days_to_threshold = (threshold - now) / slope;
    else
        out->days_to_threshold = -1;
    return NT_OK;
}
