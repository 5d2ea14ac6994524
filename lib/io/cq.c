/*
 * cq.c — completion queues (level 1).
 *
 * A queue is a growable ring of lsio_completion guarded by a mutex, with a
 * condition variable (on CLOCK_MONOTONIC) for waiters. In callback mode a
 * completion is handed to the callback on the thread that produced it and
 * never stored. `pending` counts ranges submitted to the queue and not yet
 * taken out (by wait/poll or by the callback).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io_backend.h"

struct lsio_cq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    lsio_completion *ring;
    size_t cap, head, count;
    atomic_size_t pending;
    lsio_cq_fn fn;
    void *ctx;
};

void lsio_completion_release(lsio_completion *c)
{
    if (!c)
        return;
    lsio_buf_release(c->buf);
    free(c->error);
    c->buf = NULL;
    c->error = NULL;
}

int lsio_cq_create(lsio_cq **out)
{
    if (!out)
        return -EINVAL;
    lsio_cq *cq = calloc(1, sizeof *cq);
    if (!cq)
        return -ENOMEM;
    pthread_mutex_init(&cq->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cq->cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&cq->pending, 0);
    *out = cq;
    return 0;
}

void lsio_cq_destroy(lsio_cq *cq)
{
    if (!cq)
        return;
    for (size_t i = 0; i < cq->count; i++)
        lsio_completion_release(&cq->ring[(cq->head + i) % cq->cap]);
    free(cq->ring);
    pthread_mutex_destroy(&cq->mu);
    pthread_cond_destroy(&cq->cv);
    free(cq);
}

void lsio_cq_set_callback(lsio_cq *cq, lsio_cq_fn fn, void *ctx)
{
    pthread_mutex_lock(&cq->mu);
    cq->fn = fn;
    cq->ctx = ctx;
    pthread_mutex_unlock(&cq->mu);
}

size_t lsio_cq_pending(lsio_cq *cq) { return atomic_load(&cq->pending); }

void lsio__cq_expect(lsio_cq *cq, size_t n) { atomic_fetch_add(&cq->pending, n); }

static int grow_locked(lsio_cq *cq)
{
    size_t ncap = cq->cap ? cq->cap * 2 : 64;
    lsio_completion *r = malloc(ncap * sizeof *r);
    if (!r)
        return -ENOMEM;
    for (size_t i = 0; i < cq->count; i++)
        r[i] = cq->ring[(cq->head + i) % cq->cap];
    free(cq->ring);
    cq->ring = r;
    cq->cap = ncap;
    cq->head = 0;
    return 0;
}

void lsio__cq_push(lsio_cq *cq, lsio_completion *c)
{
    pthread_mutex_lock(&cq->mu);
    lsio_cq_fn fn = cq->fn;
    void *ctx = cq->ctx;
    if (!fn) {
        while (cq->count == cq->cap && grow_locked(cq) < 0) {
            /* Out of memory for the ring: wait for a consumer to make room
             * rather than lose a completion. */
            struct timespec ts = {0, 1000000};
            pthread_mutex_unlock(&cq->mu);
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&cq->mu);
        }
        cq->ring[(cq->head + cq->count) % cq->cap] = *c;
        cq->count++;
        pthread_cond_signal(&cq->cv);
        pthread_mutex_unlock(&cq->mu);
        return;
    }
    pthread_mutex_unlock(&cq->mu);
    atomic_fetch_sub(&cq->pending, 1);
    fn(ctx, c);
}

static size_t take_locked(lsio_cq *cq, lsio_completion *out, size_t max)
{
    size_t n = cq->count < max ? cq->count : max;
    for (size_t i = 0; i < n; i++) {
        out[i] = cq->ring[cq->head];
        cq->head = (cq->head + 1) % cq->cap;
    }
    cq->count -= n;
    if (n)
        atomic_fetch_sub(&cq->pending, n);
    return n;
}

int lsio_cq_poll(lsio_cq *cq, lsio_completion *out, size_t max)
{
    if (!cq || (!out && max))
        return -EINVAL;
    pthread_mutex_lock(&cq->mu);
    size_t n = take_locked(cq, out, max);
    pthread_mutex_unlock(&cq->mu);
    return (int)n;
}

int lsio_cq_wait(lsio_cq *cq, lsio_completion *out, size_t max, int timeout_ms)
{
    if (!cq || !out || max == 0)
        return -EINVAL;
    struct timespec deadline;
    if (timeout_ms > 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&cq->mu);
    while (cq->count == 0 && timeout_ms != 0) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&cq->cv, &cq->mu);
        } else if (pthread_cond_timedwait(&cq->cv, &cq->mu, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    size_t n = take_locked(cq, out, max);
    pthread_mutex_unlock(&cq->mu);
    return (int)n;
}
