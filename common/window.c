/*
 * window.c — the worker's in-flight window by Little's law (see window.h).
 */
#include "window.h"

#include <math.h>

#define HEADROOM 1.5 /* jobs in flight beyond λ·W: arrivals are not evenly spaced */
#define PROBE    2.0 /* λ assumed while the window was full: what it would be with more */
#define SMOOTH   0.5 /* weight of the newest period */

static int clamp(double v, int lo, int hi)
{
    if (!(v >= lo)) /* NaN too */
        return lo;
    return v > hi ? hi : (int)ceil(v);
}

void nt_window_init(nt_window_t *win, int floor, int ceiling, int initial, int64_t now_us)
{
    if (floor < 1)
        floor = 1;
    if (ceiling < floor)
        ceiling = floor;
    *win = (nt_window_t){.floor = floor, .ceiling = ceiling, .start_us = now_us};
    win->size = clamp(initial, floor, ceiling);
}

void nt_window_done(nt_window_t *win, int64_t service_us)
{
    win->done++;
    win->service_us += service_us > 0 ? (double)service_us : 0;
}

void nt_window_full(nt_window_t *win, bool full, int64_t now_us)
{
    if (full && win->full_since == 0) {
        win->full_since = now_us > 0 ? now_us : 1;
    } else if (!full && win->full_since != 0) {
        win->full_us += now_us - win->full_since;
        win->full_since = 0;
    }
}

int nt_window_tick(nt_window_t *win, double rate_cap, int64_t now_us)
{
    int64_t len = now_us - win->start_us;
    if (len < NT_WINDOW_PERIOD_US)
        return win->size;
    int64_t full = win->full_us;
    if (win->full_since != 0) {
        full += now_us - win->full_since;
        win->full_since = now_us;
    }
    bool was_full = full * 2 >= len; /* full for half the period or more */
    double secs = (double)len / 1e6;
    if (win->done > 0) {
        double rate = (double)win->done / secs;
        double service = win->service_us / (double)win->done;
        if (win->periods == 0) {
            win->rate = rate;
            win->service_avg = service;
        } else {
            win->rate = SMOOTH * rate + (1 - SMOOTH) * win->rate;
            win->service_avg = SMOOTH * service + (1 - SMOOTH) * win->service_avg;
        }
        win->periods++;
        double want = was_full ? win->rate * PROBE : win->rate;
        if (rate_cap > 0 && want > rate_cap)
            want = rate_cap;
        double target = HEADROOM * want * win->service_avg / 1e6;
        /* at most twice as large, or half as small, as it was */
        if (target > 2.0 * win->size)
            target = 2.0 * win->size;
        if (target < win->size / 2.0)
            target = win->size / 2.0;
        win->size = clamp(target, win->floor, win->ceiling);
    }
    /* nothing finished in the period: the jobs wait on something the window does
     * not decide (a platform held, the database); it stays as it is */
    win->start_us = now_us;
    win->done = 0;
    win->service_us = 0;
    win->full_us = 0;
    return win->size;
}
