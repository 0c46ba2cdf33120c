/*
 * loop.h — the single-threaded event loop every numtrust daemon runs on.
 *
 * One epoll set for all file descriptors (librdkafka's queue wake-up fd, the
 * curl sockets, the libpq socket, HTTP server sockets) plus a min-heap of
 * millisecond timers. Scale-out is by processes, never threads, so nothing
 * here is thread-safe.
 */
#ifndef NT_LOOP_H
#define NT_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define NT_LOOP_READ  0x1u
#define NT_LOOP_WRITE 0x2u
#define NT_LOOP_ERROR 0x4u /* reported only: hang-up or error on the fd */

typedef struct nt_loop_s nt_loop_t;

typedef void (*nt_loop_io_cb)(nt_loop_t *loop, int fd, unsigned events, void *arg);
typedef void (*nt_loop_timer_cb)(nt_loop_t *loop, void *arg);

/* A timer is embedded in its owner's struct (no allocation per start). Zero-
 * initialise it (or call nt_loop_timer_init) before first use. */
typedef struct nt_timer_s {
    int64_t due_ms;  /* monotonic ms */
    size_t heap_idx; /* index in the heap + 1; 0 when not armed */
    uint64_t seq;    /* insertion order, so equal deadlines fire FIFO */
    nt_loop_timer_cb cb;
    void *arg;
} nt_timer_t;

/* @returns a new loop; free with nt_loop_free(). NULL on failure (err set). */
nt_loop_t *nt_loop_new(nt_err_t *err);

/* Frees the loop. Registered fds are not closed. loop may be NULL. */
void nt_loop_free(nt_loop_t *loop);

/* Watches fd for events (NT_LOOP_READ | NT_LOOP_WRITE). An fd is registered
 * at most once; use nt_loop_io_mod to change its events. */
int nt_loop_io_add(nt_loop_t *loop, int fd, unsigned events, nt_loop_io_cb cb,
                   void *arg) NT_MUSTCHECK;

/* Changes the events watched for a registered fd. */
int nt_loop_io_mod(nt_loop_t *loop, int fd, unsigned events) NT_MUSTCHECK;

/* Stops watching fd. Safe to call from inside any callback, also for an fd
 * whose event is pending in the current batch (that event is dropped). Call
 * before close(fd). Unknown fds are ignored. */
void nt_loop_io_del(nt_loop_t *loop, int fd);

/* True when fd is registered. */
bool nt_loop_io_has(const nt_loop_t *loop, int fd);

void nt_loop_timer_init(nt_timer_t *t);

/* Arms t to fire once after delay_ms (re-arms it if already armed). */
int nt_loop_timer_start(nt_loop_t *loop, nt_timer_t *t, int64_t delay_ms, nt_loop_timer_cb cb,
                        void *arg) NT_MUSTCHECK;

/* Disarms t; no effect if not armed. */
void nt_loop_timer_stop(nt_loop_t *loop, nt_timer_t *t);

static inline bool nt_loop_timer_is_armed(const nt_timer_t *t)
{
    return t->heap_idx != 0;
}

/* Waits at most max_wait_ms (-1: until an event or timer; 0: do not block),
 * dispatches ready fds, then due timers. Returns the number of callbacks run,
 * or a negative code on an epoll failure other than EINTR. */
int nt_loop_run_once(nt_loop_t *loop, int max_wait_ms);

/* Monotonic ms as of the last wake-up (cheap; refreshed by run_once). */
int64_t nt_loop_now(const nt_loop_t *loop);

/* Refreshes and returns the cached time. */
int64_t nt_loop_update_now(nt_loop_t *loop);

/* Milliseconds until the earliest armed timer, or -1 when none. */
int64_t nt_loop_next_timeout(const nt_loop_t *loop);

#endif
