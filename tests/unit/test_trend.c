/*
 * test_trend.c — trust trends (trend.h): exact lines recover their slope
 * and intercept, the decay per quarter of the article's 8-12% curves, the
 * forecast of a threshold crossing (ahead, already crossed, never), noise
 * around a line, and the degenerate inputs that cannot be fitted.
 */
#include <math.h>
#include <stdio.h>

#include "check.h"
#include "trend.h"

#define NEAR(got, want, tol)                                                                       \
    CHECKF(fabs((got) - (want)) <= (tol), "%s = %.6f, want %.6f (+-%g)", #got, (double)(got),      \
           (double)(want), (double)(tol))

static void test_lines(void)
{
    static const struct {
        double slope, now, threshold;
        double decay, days; /* expected */
    } rows[] = {
        /* 80 now, falling 0.1 a day: 89.13125 a quarter ago, decay 10.24% */
        {-0.1, 80, 60, 100.0 * 9.13125 / 89.13125, 200},
        {0, 80, 60, 0, -1},                                /* flat: never */
        {0.2, 70, 60, 0, -1},                              /* rising */
        {-0.5, 55, 60, 100.0 * 45.65625 / 100.65625, 0},   /* already below */
        {-0.25, 60, 60, 100.0 * 22.828125 / 82.828125, 0}, /* exactly at it */
        {-1, 100, 0, 100.0 * 91.3125 / 191.3125, 100},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        nt_trend_sums_t s = {0};
        for (int d = -180; d <= 0; d += 7)
            nt_trend_add(&s, d, rows[i].now + rows[i].slope * d);
        nt_trend_t t;
        CHECK_INT(nt_trend_fit(&s, rows[i].threshold, &t), NT_OK);
        NEAR(t.slope_per_day, rows[i].slope, 1e-9);
        NEAR(t.now, rows[i].now, 1e-9);
        NEAR(t.decay_pct_quarter, rows[i].decay, 1e-9);
        NEAR(t.days_to_threshold, rows[i].days, 1e-6);
    }
}

/* The article's curve: 10% a quarter, compounding; sampled weekly over two
 * quarters with alternating noise of +-1 point. The linear fit measures
 * about 10% a quarter (Python's statistics.linear_regression over the same
 * points: slope -0.0935385612/day, 72.5820760 now, 10.5287% a quarter,
 * 60 crossed in 134.512 days). */
static void test_article_curve(void)
{
    nt_trend_sums_t s = {0};
    for (int w = 0; w <= 26; w++) {
        double days = -7.0 * (26 - w);
        double score = 90 * pow(0.9, (days + 182.625) / NT_TREND_QUARTER_DAYS) + (w % 2 ? 1 : -1);
        nt_trend_add(&s, days, score);
    }
    nt_trend_t t;
    CHECK_INT(nt_trend_fit(&s, 60, &t), NT_OK);
    NEAR(t.slope_per_day, -0.0935385612, 1e-9);
    NEAR(t.now, 72.5820760, 1e-6);
    NEAR(t.decay_pct_quarter, 10.5287115, 1e-6);
    NEAR(t.days_to_threshold, 134.512182, 1e-5);
}

static void test_degenerate(void)
{
    nt_trend_sums_t s = {0};
    nt_trend_t t;
    CHECK_INT(nt_trend_fit(&s, 60, &t), NT_EINVAL);
    nt_trend_add(&s, -3, 80);
    CHECK_INT(nt_trend_fit(&s, 60, &t), NT_EINVAL);
    nt_trend_add(&s, -3, 70); /* two points at the same time */
    CHECK_INT(nt_trend_fit(&s, 60, &t), NT_EINVAL);
    nt_trend_add(&s, 0, 60);
    CHECK_INT(nt_trend_fit(&s, 60, &t), NT_OK);
    NEAR(t.slope_per_day, -5, 1e-9);
}

int main(void)
{
    test_lines();
    test_article_curve();
    test_degenerate();
    CHECK_DONE();
}
