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

/* Create a pool of nthreads workers (0 = number of cores). Returns 0, or
 * -EINVAL (more than 4096 threads), -ENOMEM, or the negated error of
 * pthread_create; *out is NULL on failure. */
int lsio_pool_create(lsio_pool **out, unsigned nthreads);
/* Run every task still queued (and those they submit), then join the
 * workers and free the pool. NULL is a no-op. Not from one of p's own
 * tasks; nothing else may submit to p once destroy has begun. */
void lsio_pool_destroy(lsio_pool *p);
unsigned lsio_pool_threads(const lsio_pool *p);

/* The process-wide default pool (created on first use with as many workers
 * as cores, or $LSIO_THREADS: a decimal count from 1 to 4096; anything else
 * is ignored). Never destroy it. NULL only if it could not be created (the
 * next call does not try again). After fork() the child gets a new default
 * pool on first use; other pools made before fork() are unusable in the
 * child (their threads are not there). */
lsio_pool *lsio_pool_default(void);

/* Task groups. A group is not tied to a pool; it counts unfinished tasks
 * (at most 2^31 - 1 at a time) and can be waited on again after more
 * submissions. create returns 0 or -ENOMEM. */
int lsio_taskgroup_create(lsio_taskgroup **out);
void lsio_taskgroup_destroy(lsio_taskgroup *g);
/* Wait until every task submitted with g has finished. Returns 0, or the
 * first nonzero error recorded with lsio_taskgroup_fail(). A worker thread
 * of a pool runs that pool's tasks (any group's) while it waits; another
 * thread sleeps. When it returns, the tasks' writes are visible to the
 * caller. */
int lsio_taskgroup_wait(lsio_taskgroup *g);
/* Record an error in g (the first one wins; tasks still run). */
void lsio_taskgroup_fail(lsio_taskgroup *g, int err);
/* The first recorded error or 0 (lets long tasks stop early). */
int lsio_taskgroup_status(lsio_taskgroup *g);

/* Queue fn(arg) on p, counted in g (g may be NULL). From a worker thread of
 * p the task goes to that worker's own deque, else to the injector.
 * Returns 0, -ENOMEM, or -EOVERFLOW (g has 2^31 - 1 unfinished tasks).
 * Never allocates per task (queues grow geometrically). */
int lsio_pool_submit(lsio_pool *p, lsio_taskgroup *g, lsio_task_fn fn, void *arg);

/* Call fn(ctx, begin, end) over [0, n) in pieces of about `grain` items
 * (0: chosen from n and the thread count) on p and wait for all of them.
 * The calling thread takes part. With grain > 0 the pieces are exactly
 * [k*grain, min((k+1)*grain, n)) (unless that makes more than 2^31 - 1
 * pieces, when they are coarser); every index is covered once; begin < end.
 * It may be called from inside a task or a piece (nested). Returns 0 (if
 * memory runs out the caller runs every piece itself). */
typedef void (*lsio_range_fn)(void *ctx, size_t begin, size_t end);
int lsio_pool_parallel_for(lsio_pool *p, size_t n, size_t grain, lsio_range_fn fn, void *ctx);

/* Map fresh memory before it is written: every page of [mem, mem + len)
 * gets one byte written (0), the pages shared out in 2 MiB blocks over
 * p's threads and the caller. For memory whose contents do not matter
 * yet (a result buffer just mapped, about to be overwritten): first-touch
 * faults are then taken once per page, in parallel, instead of inside a
 * read whose threads write neighbouring parts of the same pages (a page
 * faulted by two threads at once costs both, and they share its
 * page-table lock). */
void lsio_pool_prefault(lsio_pool *p, void *mem, size_t len);

/* Counters since creation, summed over the workers (read without stopping
 * them: a snapshot, exact once the pool is idle). Pieces of parallel_for
 * that its calling thread ran are not counted. */
typedef struct lsio_pool_stats {
    uint64_t executed; /* tasks run by the workers */
    uint64_t stolen;   /* of which taken from another worker's deque */
    uint64_t parks;    /* times a worker went to sleep */
} lsio_pool_stats;
void lsio_pool_stats_get(lsio_pool *p, lsio_pool_stats *st);

#ifdef __cplusplus
}
#endif
#endif
