/*
 * test_window.c — the in-flight window by Little's law (window.h), driven
 * by a model of a worker: per period, the jobs it finishes are what its
 * window, the service time, its own capacity, the platforms' allowed rate
 * and the arrivals allow (throughput = min(window / W, capacity, cap,
 * arrivals)), and the window is full when a backlog waits or arrivals keep
 * more than it in flight. Each row says where the window must settle.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "window.h"

#define T0 1000000000LL
#define P  NT_WINDOW_PERIOD_US

typedef struct row_s {
    const char *name;
    double service_ms; /* W: claim, call, write */
    double capacity;   /* jobs/s the worker (CPU, database) can do at most */
    double rate_cap;   /* calls/s the platforms allow, 0: unlimited */
    double arrivals;   /* jobs/s offered; 0: a backlog (always more waiting) */
    int initial;
    int lo, hi;      /* where the window must be after 40 periods (10 s) */
    double min_rate; /* jobs/s it must reach by then */
} row_t;

static const row_t rows[] = {
    /* 100 ms platforms with a backlog: the 1,000 of a fixed window allow 10,000/s;
     * the window grows until the worker's own capacity (20,000/s) is the limit */
    {"backlog, 100 ms, capacity 20k/s", 100, 20000, 0, 0, 1000, 3000, 6000, 19000},
    {"backlog, 500 ms, capacity 20k/s: the ceiling", 500, 20000, 0, 0, 1000, 10000, 10000, 19000},
    /* 0 ms platforms: the service time is the database's (20 ms): a window of ~1,200 */
    {"backlog, 20 ms, capacity 20k/s", 20, 20000, 0, 0, 1000, 600, 1300, 19000},
    /* a platform allowing 50 calls/s never needs more than 50 x latency: the floor */
    {"backlog, 200 ms, 50 calls/s allowed", 200, 20000, 50, 0, 1000, 100, 100, 49},
    {"backlog, 100 ms, 5,000 calls/s allowed", 100, 20000, 5000, 0, 1000, 700, 800, 4900},
    /* light load: 1,000 jobs/s at 100 ms keep 100 in flight; the window shrinks */
    {"1,000/s offered, 100 ms", 100, 20000, 0, 1000, 1000, 150, 160, 990},
    {"8,000/s offered, 250 ms", 250, 20000, 0, 8000, 1000, 3000, 3100, 7900},
};

static double min3(double a, double b, double c)
{
    double m = a < b ? a : b;
    return m < c ? m : c;
}

/* Runs the model for periods; returns the last period's throughput. */
static double run(nt_window_t *win, const row_t *r, int periods, int64_t *t)
{
    double x = 0;
    double W = r->service_ms / 1000.0;
    for (int i = 0; i < periods; i++) {
        double by_window = win->size / W;
        double limit = min3(by_window, r->capacity, r->rate_cap > 0 ? r->rate_cap : 1e12);
        x = r->arrivals > 0 && r->arrivals < limit ? r->arrivals : limit;
        bool full = r->arrivals == 0 || r->arrivals * W >= win->size;
        nt_window_full(win, full, *t);
        long n = (long)(x * P / 1e6);
        for (long k = 0; k < n; k++)
            nt_window_done(win, (int64_t)(r->service_ms * 1000));
        *t += P;
        nt_window_tick(win, r->rate_cap, *t);
    }
    return x;
}

static void test_rows(void)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const row_t *r = &rows[i];
        nt_window_t win;
        int64_t t = T0;
        nt_window_init(&win, 100, 10000, r->initial, t);
        double x = run(&win, r, 40, &t);
        CHECKF(win.size >= r->lo && win.size <= r->hi, "%s: window %d, want %d..%d", r->name,
               win.size, r->lo, r->hi);
        CHECKF(x >= r->min_rate, "%s: %.0f jobs/s, want at least %.0f", r->name, x, r->min_rate);
    }
}

/* bounds: never below the floor or above the ceiling, at most x2 / /2 a period,
 * recomputed only when a period has passed, unchanged when nothing finished */
static void test_bounds(void)
{
    nt_window_t win;
    int64_t t = T0;
    nt_window_init(&win, 100, 10000, 1000, t);
    CHECK_INT(win.size, 1000);
    /* within the period: nothing recomputed */
    nt_window_full(&win, true, t);
    for (int k = 0; k < 5000; k++)
        nt_window_done(&win, 500000);
    CHECK_INT(nt_window_tick(&win, 0, t + P - 1), 1000);
    /* 20,000/s at 500 ms, full: 3 x 20,000 x 0.5 = 30,000 wanted, 2,000 allowed */
    CHECK_INT(nt_window_tick(&win, 0, t + P), 2000);
    /* a fresh window, 1,000/s of 1 ms jobs, not full: 1.5 wanted, half allowed */
    nt_window_init(&win, 100, 10000, 1000, t);
    for (int k = 0; k < 250; k++)
        nt_window_done(&win, 1000);
    CHECK_INT(nt_window_tick(&win, 0, t + P), 500);
    /* nothing finishes (a platform held): unchanged */
    t += P;
    nt_window_full(&win, true, t);
    CHECK_INT(nt_window_tick(&win, 0, t + P), 500);
    /* the floor and the ceiling */
    nt_window_init(&win, 100, 10000, 50, t);
    CHECK_INT(win.size, 100);
    nt_window_init(&win, 100, 10000, 50000, t);
    CHECK_INT(win.size, 10000);
    nt_window_init(&win, 0, -5, 10, t);
    CHECK_INT(win.floor, 1);
    CHECK_INT(win.ceiling, 1);
}

int main(void)
{
    test_rows();
    test_bounds();
    printf("test_window: %zu rows\n", sizeof(rows) / sizeof(rows[0]));
    CHECK_DONE();
}
