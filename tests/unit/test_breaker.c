/*
 * test_breaker.c — the circuit breaker (breaker.h) as the worker drives it:
 * each row is a call outcome at a time, and what the breaker must say
 * afterwards (event, open, whether a call may go and whether it is the
 * probe).
 */
#include <stdio.h>

#include "breaker.h"
#include "check.h"
#include "err.h"

typedef struct step_s {
    int64_t now;
    char what;        /* 'f' failure, 's' success, 'a' ask for a call (allow) */
    bool probe;       /* 'f'/'s': the call was the probe */
    int event;        /* 'f'/'s': NT_BREAKER_* expected */
    int64_t open_for; /* when OPENED */
    bool allowed;     /* 'a': may a call go */
    bool is_probe;    /* 'a': and is it the probe */
} step_t;

#define F(t)                                                                                       \
    {                                                                                              \
        t, 'f', false, NT_BREAKER_SAME, 0, false, false                                            \
    }
#define F_OPEN(t, d)                                                                               \
    {                                                                                              \
        t, 'f', false, NT_BREAKER_OPENED, d, false, false                                          \
    }
#define S(t)                                                                                       \
    {                                                                                              \
        t, 's', false, NT_BREAKER_SAME, 0, false, false                                            \
    }
#define A(t, ok, pr)                                                                               \
    {                                                                                              \
        t, 'a', false, 0, 0, ok, pr                                                                \
    }

static const step_t steps[] = {
    /* closed: failures below the threshold (3) change nothing; a success resets */
    A(0, true, false),
    F(1),
    F(2),
    S(3),
    F(4),
    F(5),
    A(6, true, false),
    /* the third in a row opens it for 100 ms */
    F_OPEN(7, 100),
    A(8, false, false),
    A(106, false, false),
    /* half-open at 107: one probe; the others wait for it */
    A(107, true, true),
    A(108, false, false),
    A(150, false, false),
    /* the probe fails: open again, twice as long */
    {160, 'f', true, NT_BREAKER_OPENED, 200, false, false},
    A(200, false, false),
    A(359, false, false),
    /* half-open again: the probe can be lost (never sent): the next call is the probe */
    A(360, true, true),
    {361, 'l', false, 0, 0, false, false},
    A(362, true, true),
    /* answers from calls made before the trip (not the probe) change nothing */
    F(363),
    A(364, false, false),
    /* the probe succeeds: closed, periods back to the start */
    {370, 's', true, NT_BREAKER_CLOSED, 0, false, false},
    A(371, true, false),
    F(380),
    F(381),
    F_OPEN(382, 100),
    /* doubling stops at the cap (400 ms) */
    A(482, true, true),
    {483, 'f', true, NT_BREAKER_OPENED, 200, false, false},
    A(683, true, true),
    {684, 'f', true, NT_BREAKER_OPENED, 400, false, false},
    A(1084, true, true),
    {1085, 'f', true, NT_BREAKER_OPENED, 400, false, false},
};

int main(void)
{
    nt_breaker_t b;
    nt_breaker_init(&b, 3, 100, 400);
    for (size_t i = 0; i < NT_ARRAY_LEN(steps); i++) {
        const step_t *s = &steps[i];
        if (s->what == 'a') {
            bool probe = !s->is_probe;
            bool ok = nt_breaker_allow(&b, s->now, &probe);
            CHECKF(ok == s->allowed && probe == s->is_probe,
                   "step %zu (t=%lld): allow %d probe %d, want %d %d", i, (long long)s->now, ok,
                   probe, s->allowed, s->is_probe);
            continue;
        }
        if (s->what == 'l') {
            nt_breaker_probe_lost(&b);
            continue;
        }
        int64_t open_for = -1;
        nt_breaker_event_t ev = nt_breaker_record(&b, s->now, s->what == 'f', s->probe, &open_for);
        CHECKF((int)ev == s->event, "step %zu (t=%lld): event %d, want %d", i, (long long)s->now,
               ev, s->event);
        if (s->event == NT_BREAKER_OPENED)
            CHECKF(open_for == s->open_for && nt_breaker_open(&b, s->now),
                   "step %zu: open for %lld, want %lld", i, (long long)open_for,
                   (long long)s->open_for);
    }
    /* asking without taking the probe does not hand it out */
    nt_breaker_t q;
    nt_breaker_init(&q, 1, 10, 10);
    CHECK(nt_breaker_record(&q, 0, true, false, NULL) == NT_BREAKER_OPENED);
    CHECK(nt_breaker_allow(&q, 20, NULL));
    bool probe = false;
    CHECK(nt_breaker_allow(&q, 20, &probe) && probe);
    CHECK(!nt_breaker_allow(&q, 21, NULL));
    printf("test_breaker: %zu steps\n", NT_ARRAY_LEN(steps));
    CHECK_DONE();
}
