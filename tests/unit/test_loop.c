/*
 * test_loop.c — the event loop (loop.h): timers fire in deadline order
 * (first-armed first on a tie), re-arming moves a timer and stopping drops
 * it, a timer may re-arm itself, file descriptors report readiness, one
 * removed from inside another's callback gets no callback for its pending
 * event, and run_once waits no longer than asked.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "loop.h"

typedef struct rec_s {
    char order[64];
    size_t n;
} rec_t;

typedef struct tctx_s {
    rec_t *rec;
    char tag;
    nt_timer_t t;
    int again; /* times to re-arm itself */
} tctx_t;

static void on_timer(nt_loop_t *loop, void *arg)
{
    tctx_t *c = arg;
    if (c->rec->n + 1 < sizeof(c->rec->order))
        c->rec->order[c->rec->n++] = c->tag;
    if (c->again-- > 0)
        CHECK_INT(nt_loop_timer_start(loop, &c->t, 1, on_timer, c), NT_OK);
}

static void run_for(nt_loop_t *loop, int ms)
{
    int64_t until = nt_clock_mono_ms() + ms;
    while (nt_clock_mono_ms() < until)
        nt_loop_run_once(loop, 2);
}

static void test_timers(nt_loop_t *loop)
{
    rec_t rec;
    memset(&rec, 0, sizeof(rec));
    static const struct {
        char tag;
        int64_t delay;
    } arm[] = {{'c', 30}, {'a', 10}, {'d', 30}, {'b', 20}, {'x', 15}, {'e', 40}};
    tctx_t t[NT_ARRAY_LEN(arm)];
    for (size_t i = 0; i < NT_ARRAY_LEN(arm); i++) {
        t[i] = (tctx_t){&rec, arm[i].tag, {0}, 0};
        nt_loop_timer_init(&t[i].t);
        CHECK_INT(nt_loop_timer_start(loop, &t[i].t, arm[i].delay, on_timer, &t[i]), NT_OK);
    }
    nt_loop_timer_stop(loop, &t[4].t);                                        /* x never fires */
    CHECK_INT(nt_loop_timer_start(loop, &t[5].t, 5, on_timer, &t[5]), NT_OK); /* e moves first */
    CHECK(nt_loop_timer_is_armed(&t[0].t) && !nt_loop_timer_is_armed(&t[4].t));
    int64_t next = nt_loop_next_timeout(loop);
    CHECKF(next >= 0 && next <= 5, "next timeout %lld, want <= 5", (long long)next);
    run_for(loop, 80);
    rec.order[rec.n] = '\0';
    CHECK_STR(rec.order, "eabcd"); /* c before d: armed first, same deadline */
    CHECK_INT(nt_loop_next_timeout(loop), -1);

    /* a timer that re-arms itself from its callback */
    memset(&rec, 0, sizeof(rec));
    tctx_t self = {&rec, 's', {0}, 3};
    nt_loop_timer_init(&self.t);
    CHECK_INT(nt_loop_timer_start(loop, &self.t, 1, on_timer, &self), NT_OK);
    run_for(loop, 40);
    rec.order[rec.n] = '\0';
    CHECK_STR(rec.order, "ssss");
}

typedef struct ioctx_s {
    nt_loop_t *loop;
    int fds[2][2]; /* two pipes */
    int calls[2];
    bool del_other;
} ioctx_t;

static void on_io(nt_loop_t *loop, int fd, unsigned events, void *arg)
{
    ioctx_t *c = arg;
    int which = fd == c->fds[0][0] ? 0 : 1;
    char buf[16];
    CHECK(events & NT_LOOP_READ);
    c->calls[which]++;
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    if (c->del_other) /* the other's pending event must not be delivered */
        nt_loop_io_del(loop, c->fds[1 - which][0]);
}

static void test_io(nt_loop_t *loop)
{
    ioctx_t c;
    memset(&c, 0, sizeof(c));
    for (int i = 0; i < 2; i++) {
        CHECK_INT(pipe(c.fds[i]), 0);
        fcntl(c.fds[i][0], F_SETFL, O_NONBLOCK);
        CHECK_INT(nt_loop_io_add(loop, c.fds[i][0], NT_LOOP_READ, on_io, &c), NT_OK);
    }
    CHECK(nt_loop_io_has(loop, c.fds[0][0]));
    CHECK(nt_loop_io_add(loop, c.fds[0][0], NT_LOOP_READ, on_io, &c) != NT_OK); /* once */
    CHECK(write(c.fds[0][1], "x", 1) == 1);
    run_for(loop, 20);
    CHECK_INT(c.calls[0], 1);
    CHECK_INT(c.calls[1], 0);
    /* both ready; the first callback removes the other */
    c.del_other = true;
    CHECK(write(c.fds[0][1], "x", 1) == 1);
    CHECK(write(c.fds[1][1], "y", 1) == 1);
    CHECK(nt_loop_run_once(loop, 100) >= 1);
    CHECKF(c.calls[0] + c.calls[1] == 2, "callbacks after one turn: %d + %d", c.calls[0],
           c.calls[1]);
    c.del_other = false;
    /* write interest */
    int wfd = c.fds[0][1];
    CHECK_INT(nt_loop_io_add(loop, wfd, NT_LOOP_WRITE, on_io, &c), NT_OK);
    CHECK_INT(nt_loop_io_mod(loop, wfd, NT_LOOP_READ), NT_OK);
    nt_loop_io_del(loop, wfd);
    nt_loop_io_del(loop, 12345); /* unknown: ignored */
    for (int i = 0; i < 2; i++) {
        nt_loop_io_del(loop, c.fds[i][0]);
        close(c.fds[i][0]);
        close(c.fds[i][1]);
    }
}

static void test_wait(nt_loop_t *loop)
{
    int64_t t0 = nt_clock_mono_ms();
    CHECK_INT(nt_loop_run_once(loop, 50), 0);
    int64_t took = nt_clock_mono_ms() - t0;
    CHECKF(took >= 40 && took < 500, "run_once(50) with nothing to do took %lld ms",
           (long long)took);
    t0 = nt_clock_mono_ms();
    CHECK_INT(nt_loop_run_once(loop, 0), 0);
    CHECKF(nt_clock_mono_ms() - t0 < 20, "run_once(0) blocked");
    int64_t now = nt_loop_update_now(loop);
    CHECK(now >= t0 && nt_loop_now(loop) == now);
}

int main(void)
{
    nt_err_t err;
    nt_loop_t *loop = nt_loop_new(&err);
    CHECK(loop != NULL);
    if (loop == NULL)
        CHECK_DONE();
    test_timers(loop);
    test_io(loop);
    test_wait(loop);
    nt_loop_free(loop);
    nt_loop_free(NULL);
    printf("test_loop: done\n");
    CHECK_DONE();
}
