/*
 * window.h — how many jobs a worker holds at once, sized by Little's law.
 *
 * A worker needs in flight what its throughput times a job's service time
 * asks for (L = λ·W): at 15,000 checks/s and 100 ms a call, 1,500 jobs; at
 * 0 ms, a few hundred; and a platform limited to 50 calls/s never needs more
 * than 50 times its latency. A fixed window is either too small for slow
 * platforms (it caps throughput at window / latency) or holds, for fast
 * ones, thousands of jobs that only wait (memory, and latency for the jobs
 * behind them). The window here is recomputed every period from what was
 * measured in it: jobs finished per second λ, and their service time W (the
 * platform call: the part of a job that needs concurrency; the claim and
 * result batches need a number of jobs that does not grow with the latency,
 * which the floor provides. Counting the time jobs spend in PostgreSQL made
 * the window grow with PostgreSQL's backlog when it was the bottleneck, and
 * the backlog with the window, up to the ceiling), as
 *
 *   window = 1.5 · λ' · W,   λ' = 2λ while the window was full (probing for
 *                            more), else λ; never above the platforms' allowed
 *                            rate when one is known
 *
 * moving at most ×2 up and ÷2 down a period, between a floor and the
 * configured ceiling. A value type with the caller's clock (monotonic µs),
 * like nt_ratelimit_t, so tests drive it without sleeping.
 */
#ifndef NT_WINDOW_H
#define NT_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#define NT_WINDOW_PERIOD_US 250000 /* recomputed every 250 ms */

typedef struct nt_window_s {
    int floor, ceiling;
    int size;           /* the window now */
    int64_t start_us;   /* start of the current period */
    uint64_t done;      /* jobs finished in the period */
    double service_us;  /* ... the sum of their service times */
    int64_t full_us;    /* time the window was full in the period */
    int64_t full_since; /* when it became full (0: not full) */
    double rate;        /* jobs/s, smoothed over periods */
    double service_avg; /* µs a job, smoothed over periods */
    uint64_t periods;   /* periods measured */
} nt_window_t;

/* floor >= 1, ceiling >= floor; initial: the window before anything is
 * measured (clamped to [floor, ceiling]). */
void nt_window_init(nt_window_t *win, int floor, int ceiling, int initial, int64_t now_us);

/* A job finished; service_us: its service time (see above). */
void nt_window_done(nt_window_t *win, int64_t service_us);

/* The worker's jobs reached the window (full true) or went back below it. */
void nt_window_full(nt_window_t *win, bool full, int64_t now_us);

/* Recomputes the window once a period has passed (otherwise returns it as
 * it is). rate_cap: the calls per second the platforms allow the worker in
 * total, 0 when unknown or unlimited. Returns the window. */
int nt_window_tick(nt_window_t *win, double rate_cap, int64_t now_us);

#endif
