/*
 * lsio_pool.h — level 2: a work-stealing thread pool.
 *
 * One deque per worker: a worker pushes and pops its own tasks at the
 * bottom (LIFO, cache-warm) and steals from the top of others' (FIFO) when
 * idle. Submissions from outside the pool go to a shared injector queue.
 * Idle workers park on a futex/condition instead of spinning.
 *
 * Task groups let a caller wait for a set of tasks (including tasks those
 * tasks spawn into the same group); a waiting thread that is itself a pool
 * worker runs tasks while it waits, so nested waits do not deadlock.
 *
 * Thread safety: every function is thread-safe. A task group may be
 * submitted to and waited on from any thread; destroy it only after its
 * wait returned.
 */
#ifndef LSIO_POOL_H
#define LSIO_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "lsio_base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lsio_pool lsio_pool;
typedef struct lsio_taskgroup lsio_taskgroup;

typedef void (*lsio_task_fn)(void *arg);

/* Create a pool of nthreads workers (0 = number of cores). */
int lsio_pool_create(lsio_pool **out, unsigned nthreads);
/* Run every task still queued, then join the workers and free the pool. */
void lsio_pool_destroy(lsio_pool *p);
unsigned lsio_pool_threads(const lsio_pool *p);

/* The process-wide default pool (created on first use with as many workers
 * as cores, or $LSIO_THREADS). Never destroy it. */
lsio_pool *lsio_pool_default(void);

/* Task groups. */
int lsio_taskgroup_create(lsio_taskgroup **out);
void lsio_taskgroup_destroy(lsio_taskgroup *g);
/* Wait until every task submitted with g has finished. Returns 0, or the
 * first nonzero error recorded with lsio_taskgroup_fail(). */
int lsio_taskgroup_wait(lsio_taskgroup *g);
/* Record an error in g (the first one wins; tasks still run). */
void lsio_taskgroup_fail(lsio_taskgroup *g, int err);
/* The first recorded error or 0 (lets long tasks stop early). */
int lsio_taskgroup_status(lsio_taskgroup *g);

/* Queue fn(arg) on p, counted in g (g may be NULL). From a worker thread of
 * p the task goes to that worker's own deque, else to the injector.
 * Returns 0 or -ENOMEM. */
int lsio_pool_submit(lsio_pool *p, lsio_taskgroup *g, lsio_task_fn fn, void *arg);

/* Call fn(ctx, begin, end) over [0, n) in pieces of about `grain` items
 * (0: chosen from n and the thread count) on p and wait for all of them.
 * The calling thread takes part. */
typedef void (*lsio_range_fn)(void *ctx, size_t begin, size_t end);
int lsio_pool_parallel_for(lsio_pool *p, size_t n, size_t grain, lsio_range_fn fn, void *ctx);

typedef struct lsio_pool_stats {
    uint64_t executed; /* tasks run */
    uint64_t stolen;   /* of which taken from another worker's deque */
    uint64_t parks;    /* times a worker went to sleep */
} lsio_pool_stats;
void lsio_pool_stats_get(lsio_pool *p, lsio_pool_stats *st);

#ifdef __cplusplus
}
#endif
#endif
