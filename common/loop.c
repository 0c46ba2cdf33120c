/*
 * loop.c — epoll + timer heap (see loop.h).
 *
 * Registrations live in an array indexed by fd; each carries a generation
 * number that is also stored in the epoll event, so an event for an fd that a
 * callback removed (or removed and re-added) earlier in the same batch is
 * recognised as stale and dropped.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"

#define LOOP_MAX_EVENTS 256

typedef struct reg_s {
    nt_loop_io_cb cb;
    void *arg;
    uint32_t gen;
    bool active;
} reg_t;

struct nt_loop_s {
    int epfd;
    reg_t *regs;
    size_t nregs;
    nt_timer_t **heap;
    size_t heap_len;
    size_t heap_size;
    uint64_t timer_seq;
    int64_t now;
};

nt_loop_t *nt_loop_new(nt_err_t *err)
{
    nt_loop_t *loop = calloc(1, sizeof(*loop));
    if (loop == NULL) {
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
        return NULL;
    }
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        nt_err_set(err, NT_EIO, false, "epoll_create1: %s", strerror(errno));
        free(loop);
        return NULL;
    }
    loop->now = nt_clock_mono_ms();
    return loop;
}

void nt_loop_free(nt_loop_t *loop)
{
    if (loop == NULL)
        return;
    close(loop->epfd);
    free(loop->regs);
    free(loop->heap);
    free(loop);
}

static uint32_t to_epoll(unsigned events)
{
    uint32_t ev = 0;
    if (events & NT_LOOP_READ)
        ev |= EPOLLIN;
    if (events & NT_LOOP_WRITE)
        ev |= EPOLLOUT;
    return ev;
}

static int reg_grow(nt_loop_t *loop, int fd)
{
    if ((size_t)fd < loop->nregs)
        return NT_OK;
    size_t n = loop->nregs ? loop->nregs : 64;
    while (n <= (size_t)fd)
        n *= 2;
    reg_t *r = realloc(loop->regs, n * sizeof(*r));
    if (r == NULL)
        return NT_ENOMEM;
    memset(r + loop->nregs, 0, (n - loop->nregs) * sizeof(*r));
    loop->regs = r;
    loop->nregs = n;
    return NT_OK;
}

int nt_loop_io_add(nt_loop_t *loop, int fd, unsigned events, nt_loop_io_cb cb, void *arg)
{
    if (fd < 0 || cb == NULL)
        return NT_EINVAL;
    if (reg_grow(loop, fd) != NT_OK)
        return NT_ENOMEM;
    reg_t *r = &loop->regs[fd];
    if (r->active)
        return NT_EINVAL;
    r->gen++;
    struct epoll_event ev = {.events = to_epoll(events),
                             .data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)r->gen << 32)};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        return NT_EIO;
    r->cb = cb;
    r->arg = arg;
    r->active = true;
    return NT_OK;
}

int nt_loop_io_mod(nt_loop_t *loop, int fd, unsigned events)
{
    if (fd < 0 || (size_t)fd >= loop->nregs || !loop->regs[fd].active)
        return NT_EINVAL;
    reg_t *r = &loop->regs[fd];
    struct epoll_event ev = {.events = to_epoll(events),
                             .data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)r->gen << 32)};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
        return NT_EIO;
    return NT_OK;
}

void nt_loop_io_del(nt_loop_t *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->nregs || !loop->regs[fd].active)
        return;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    loop->regs[fd].active = false;
    loop->regs[fd].cb = NULL;
    loop->regs[fd].arg = NULL;
}

bool nt_loop_io_has(const nt_loop_t *loop, int fd)
{
    return fd >= 0 && (size_t)fd < loop->nregs && loop->regs[fd].active;
}

/* ---- timer heap ---- */

static bool timer_before(const nt_timer_t *a, const nt_timer_t *b)
{
    return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

static void heap_set(nt_loop_t *loop, size_t i, nt_timer_t *t)
{
    loop->heap[i] = t;
    t->heap_idx = i + 1;
}

static void heap_up(nt_loop_t *loop, size_t i)
{
    nt_timer_t *t = loop->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(t, loop->heap[parent]))
            break;
        heap_set(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_set(loop, i, t);
}

static void heap_down(nt_loop_t *loop, size_t i)
{
    nt_timer_t *t = loop->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const nt_timer_t *best = t;
        if (l < loop->heap_len && timer_before(loop->heap[l], best)) {
            m = l;
            best = loop->heap[l];
        }
        if (r < loop->heap_len && timer_before(loop->heap[r], best))
            m = r;
        if (m == i)
            break;
        heap_set(loop, i, loop->heap[m]);
        i = m;
    }
    heap_set(loop, i, t);
}

void nt_loop_timer_init(nt_timer_t *t)
{
    memset(t, 0, sizeof(*t));
}

void nt_loop_timer_stop(nt_loop_t *loop, nt_timer_t *t)
{
    if (t->heap_idx == 0)
        return;
    size_t i = t->heap_idx - 1;
    t->heap_idx = 0;
    loop->heap_len--;
    if (i == loop->heap_len)
        return;
    heap_set(loop, i, loop->heap[loop->heap_len]);
    heap_up(loop, i);
    heap_down(loop, loop->heap[i]->heap_idx - 1);
}

int nt_loop_timer_start(nt_loop_t *loop, nt_timer_t *t, int64_t delay_ms, nt_loop_timer_cb cb,
                        void *arg)
{
    nt_loop_timer_stop(loop, t);
    if (loop->heap_len == loop->heap_size) {
        size_t n = loop->heap_size ? loop->heap_size * 2 : 64;
        nt_timer_t **h = realloc(loop->heap, n * sizeof(*h));
        if (h == NULL)
            return NT_ENOMEM;
        loop->heap = h;
        loop->heap_size = n;
    }
    t->due_ms = nt_clock_mono_ms() + (delay_ms > 0 ? delay_ms : 0);
    t->seq = loop->timer_seq++;
    t->cb = cb;
    t->arg = arg;
    heap_set(loop, loop->heap_len++, t);
    heap_up(loop, loop->heap_len - 1);
    return NT_OK;
}

int64_t nt_loop_next_timeout(const nt_loop_t *loop)
{
    if (loop->heap_len == 0)
        return -1;
    int64_t d = loop->heap[0]->due_ms - nt_clock_mono_ms();
    return d > 0 ? d : 0;
}

int64_t nt_loop_now(const nt_loop_t *loop)
{
    return loop->now;
}

int64_t nt_loop_update_now(nt_loop_t *loop)
{
    loop->now = nt_clock_mono_ms();
    return loop->now;
}

int nt_loop_run_once(nt_loop_t *loop, int max_wait_ms)
{
    struct epoll_event evs[LOOP_MAX_EVENTS];
    int64_t wait = max_wait_ms;
    int64_t next = nt_loop_next_timeout(loop);
    if (next >= 0 && (wait < 0 || next < wait))
        wait = next;
    int n = epoll_wait(loop->epfd, evs, LOOP_MAX_EVENTS, (int)wait);
    if (n < 0) {
        if (errno != EINTR)
            return NT_EIO;
        n = 0;
    }
    loop->now = nt_clock_mono_ms();
    int ran = 0;
    for (int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)evs[i].data.u64;
        uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
        if ((size_t)fd >= loop->nregs)
            continue;
        reg_t *r = &loop->regs[fd];
        if (!r->active || r->gen != gen)
            continue; /* removed earlier in this batch */
        unsigned events = 0;
        if (evs[i].events & EPOLLIN)
            events |= NT_LOOP_READ;
        if (evs[i].events & EPOLLOUT)
            events |= NT_LOOP_WRITE;
        if (evs[i].events & (EPOLLERR | EPOLLHUP))
            events |= NT_LOOP_ERROR | NT_LOOP_READ;
        r->cb(loop, fd, events, r->arg);
        ran++;
    }
    /* Run the timers due now; timers armed by these callbacks with a zero
     * delay wait for the next round, so a timer cannot starve the fds. */
    int64_t now = nt_clock_mono_ms();
    uint64_t seq_limit = loop->timer_seq;
    while (loop->heap_len > 0 && loop->heap[0]->due_ms <= now && loop->heap[0]->seq < seq_limit) {
        nt_timer_t *t = loop->heap[0];
        nt_loop_timer_stop(loop, t);
        t->cb(loop, t->arg);
        ran++;
    }
    loop->now = nt_clock_mono_ms();
    return ran;
}
