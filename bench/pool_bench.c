/*
 * pool_bench.c — micro-benchmarks of lsio_pool against OpenMP (libgomp),
 * built and run by bench/pool (one process per runtime, so idle OpenMP
 * threads spinning after a region cannot slow the pool down, or the
 * reverse).
 *
 *   pool_bench lsio|omp THREADS SCALE
 *
 * prints one line per workload, "name value unit", for:
 *   inject    tiny tasks submitted from one outside thread, then one wait
 *             (OpenMP: tasks created by one thread inside `single`)
 *   tree      a binary tree of tiny tasks, each spawning its two children
 *             into one group (OpenMP: tasks with one taskwait at the root);
 *             every task updates the group's one counter
 *   spawn     the same tree with no group (lsio only: the end is seen by
 *             polling lsio_pool_stats every 100 us): the deques alone
 *   fib       fib(n) with a group and a wait in every call (OpenMP: task +
 *             taskwait per call)
 *   pfor      a parallel-for over items of ~50 ns each, 1024 per piece
 *             (OpenMP: schedule(dynamic, 1024)); also the same loop serial
 *   pfor_call an empty parallel-for of threads*4 pieces, repeated: the cost
 *             of one call (fork, join, wake-ups)
 *   piece     one parallel-for of many empty one-item pieces: the cost of
 *             a piece (OpenMP: schedule(dynamic, 1))
 * The lsio parallel-fors are called from inside a task, so that THREADS
 * threads in all take part, as in OpenMP (called from outside, the caller
 * would make one more).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lsio_pool.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static double now_s(void)
{
    return (double)lsio_now_ns() / 1e9;
}

/* ~50 ns of arithmetic the compiler cannot drop. */
static inline uint64_t kernel(uint64_t x)
{
    for (int i = 0; i < 48; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

static _Atomic uint64_t g_sink;

static void nop(void *arg)
{
    (void)arg;
}

/* ---- lsio ---- */

typedef struct tree_ctx {
    lsio_pool *p;
    lsio_taskgroup *g;
} tree_ctx;

static tree_ctx g_tree;

static void tree_node(void *arg)
{
    uintptr_t depth = (uintptr_t)arg;
    if (depth > 0) {
        lsio_pool_submit(g_tree.p, g_tree.g, tree_node, (void *)(depth - 1));
        lsio_pool_submit(g_tree.p, g_tree.g, tree_node, (void *)(depth - 1));
    }
}

typedef struct fib_arg {
    lsio_pool *p;
    int n;
    long r;
} fib_arg;

static void fib_task(void *arg)
{
    fib_arg *a = arg;
    if (a->n < 2) {
        a->r = a->n;
        return;
    }
    fib_arg x = {a->p, a->n - 1, 0}, y = {a->p, a->n - 2, 0};
    lsio_taskgroup *g;
    lsio_taskgroup_create(&g);
    lsio_pool_submit(a->p, g, fib_task, &x);
    lsio_pool_submit(a->p, g, fib_task, &y);
    lsio_taskgroup_wait(g);
    lsio_taskgroup_destroy(g);
    a->r = x.r + y.r;
}

static void pfor_body(void *ctx, size_t b, size_t e)
{
    (void)ctx;
    uint64_t s = 0;
    for (size_t i = b; i < e; i++)
        s += kernel(i + 1);
    atomic_fetch_add_explicit(&g_sink, s, memory_order_relaxed);
}

static void pfor_empty(void *ctx, size_t b, size_t e)
{
    (void)ctx;
    (void)b;
    (void)e;
}

static void tree_free(void *arg)
{
    uintptr_t depth = (uintptr_t)arg;
    if (depth > 0) {
        lsio_pool_submit(g_tree.p, NULL, tree_free, (void *)(depth - 1));
        lsio_pool_submit(g_tree.p, NULL, tree_free, (void *)(depth - 1));
    }
}

typedef struct pfor_job {
    lsio_pool *p;
    unsigned threads;
    size_t items;
    int reps;
    size_t npieces;
    double pfor_s, call_us, piece_ns;
} pfor_job;

static void pfor_job_run(void *arg)
{
    pfor_job *j = arg;
    double t0 = now_s();
    lsio_pool_parallel_for(j->p, j->items, 1024, pfor_body, NULL);
    j->pfor_s = now_s() - t0;
    t0 = now_s();
    for (int i = 0; i < j->reps; i++)
        lsio_pool_parallel_for(j->p, (size_t)j->threads * 4, 1, pfor_empty, NULL);
    j->call_us = (now_s() - t0) / j->reps * 1e6;
    t0 = now_s();
    lsio_pool_parallel_for(j->p, j->npieces, 1, pfor_empty, NULL);
    j->piece_ns = (now_s() - t0) / j->npieces * 1e9;
}

static int run_lsio(unsigned threads, double scale)
{
    lsio_pool *p;
    if (lsio_pool_create(&p, threads) < 0) {
        fprintf(stderr, "pool_bench: lsio_pool_create failed: %s\n", lsio_last_error());
        return 1;
    }
    lsio_taskgroup *g;
    lsio_taskgroup_create(&g);

    size_t n = (size_t)(2e6 * scale);
    double t0 = now_s();
    for (size_t i = 0; i < n; i++)
        lsio_pool_submit(p, g, nop, NULL);
    lsio_taskgroup_wait(g);
    printf("inject %.0f tasks/s\n", n / (now_s() - t0));

    int depth = scale >= 1 ? 21 : 18;
    g_tree = (tree_ctx){p, g};
    t0 = now_s();
    lsio_pool_submit(p, g, tree_node, (void *)(uintptr_t)depth);
    lsio_taskgroup_wait(g);
    printf("tree %.0f tasks/s\n", ((2 << depth) - 1) / (now_s() - t0));

    int fn = scale >= 1 ? 25 : 21;
    fib_arg a = {p, fn, 0};
    t0 = now_s();
    lsio_pool_submit(p, g, fib_task, &a);
    lsio_taskgroup_wait(g);
    double dt = now_s() - t0;
    long calls = 0;
    for (long f0 = 1, f1 = 1, i = 1; i <= fn; i++) { /* calls(n) = 2 fib(n+1) - 1 */
        long f2 = f0 + f1;
        f0 = f1;
        f1 = f2;
        calls = 2 * f0 - 1;
    }
    printf("fib %.0f tasks/s\n", calls / dt);

    lsio_pool_stats st0, st;
    lsio_pool_stats_get(p, &st0);
    t0 = now_s();
    lsio_pool_submit(p, NULL, tree_free, (void *)(uintptr_t)depth);
    const struct timespec tick = {0, 100000};
    do {
        nanosleep(&tick, NULL);
        lsio_pool_stats_get(p, &st);
    } while (st.executed - st0.executed < (2u << depth) - 1);
    printf("spawn %.0f tasks/s\n", ((2 << depth) - 1) / (now_s() - t0));

    pfor_job j = {p, threads, (size_t)(4e7 * scale), (int)(20000 * scale) + 10,
                  (size_t)(1e7 * scale), 0, 0, 0};
    lsio_pool_submit(p, g, pfor_job_run, &j);
    lsio_taskgroup_wait(g);
    printf("pfor %.4f s\n", j.pfor_s);
    printf("pfor_call %.2f us\n", j.call_us);
    printf("piece %.1f ns\n", j.piece_ns);

    lsio_taskgroup_destroy(g);
    lsio_pool_destroy(p);
    return 0;
}

/* ---- serial ---- */

static int run_serial(double scale)
{
    size_t items = (size_t)(4e7 * scale);
    double t0 = now_s();
    pfor_body(NULL, 0, items);
    printf("pfor %.4f s\n", now_s() - t0);
    return 0;
}

/* ---- OpenMP ---- */

#ifdef _OPENMP
static void omp_tree(int depth)
{
    if (depth > 0) {
#pragma omp task
        omp_tree(depth - 1);
#pragma omp task
        omp_tree(depth - 1);
    }
}

static long omp_fib(int n)
{
    if (n < 2)
        return n;
    long x = 0, y = 0;
#pragma omp task shared(x)
    x = omp_fib(n - 1);
#pragma omp task shared(y)
    y = omp_fib(n - 2);
#pragma omp taskwait
    return x + y;
}

static int run_omp(unsigned threads, double scale)
{
    omp_set_num_threads((int)threads);
    omp_set_dynamic(0);
    size_t n = (size_t)(2e6 * scale);
    double t0 = now_s();
#pragma omp parallel
#pragma omp single
    {
        for (size_t i = 0; i < n; i++) {
#pragma omp task
            nop(NULL);
        }
#pragma omp taskwait
    }
    printf("inject %.0f tasks/s\n", n / (now_s() - t0));

    int depth = scale >= 1 ? 21 : 18;
    t0 = now_s();
#pragma omp parallel
#pragma omp single
    {
        omp_tree(depth);
#pragma omp taskwait
    }
    /* taskwait waits for children only: the region's end joins the rest */
    printf("tree %.0f tasks/s\n", ((2 << depth) - 1) / (now_s() - t0));

    int fn = scale >= 1 ? 25 : 21;
    long r = 0;
    t0 = now_s();
#pragma omp parallel
#pragma omp single
    r = omp_fib(fn);
    double dt = now_s() - t0;
    long calls = 0;
    for (long f0 = 1, f1 = 1, i = 1; i <= fn; i++) {
        long f2 = f0 + f1;
        f0 = f1;
        f1 = f2;
        calls = 2 * f0 - 1;
    }
    if (r <= 0)
        return 1;
    printf("fib %.0f tasks/s\n", calls / dt);

    size_t items = (size_t)(4e7 * scale);
    t0 = now_s();
    uint64_t s = 0;
#pragma omp parallel for schedule(dynamic, 1024) reduction(+ : s)
    for (size_t i = 0; i < items; i++)
        s += kernel(i + 1);
    atomic_fetch_add(&g_sink, s);
    printf("pfor %.4f s\n", now_s() - t0);

    int reps = (int)(20000 * scale) + 10;
    size_t pieces = (size_t)threads * 4;
    t0 = now_s();
    for (int i = 0; i < reps; i++) {
#pragma omp parallel for schedule(dynamic, 1)
        for (size_t k = 0; k < pieces; k++)
            pfor_empty(NULL, k, k + 1);
    }
    printf("pfor_call %.2f us\n", (now_s() - t0) / reps * 1e6);

    size_t np = (size_t)(1e7 * scale);
    t0 = now_s();
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t k = 0; k < np; k++)
        pfor_empty(NULL, k, k + 1);
    printf("piece %.1f ns\n", (now_s() - t0) / np * 1e9);
    return 0;
}
#endif

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: pool_bench lsio|omp|serial THREADS SCALE\n");
        return 2;
    }
    unsigned threads = (unsigned)atoi(argv[2]);
    double scale = atof(argv[3]);
    if (!strcmp(argv[1], "lsio"))
        return run_lsio(threads, scale);
    if (!strcmp(argv[1], "serial"))
        return run_serial(scale);
#ifdef _OPENMP
    if (!strcmp(argv[1], "omp"))
        return run_omp(threads, scale);
#endif
    fprintf(stderr, "pool_bench: unknown runtime %s\n", argv[1]);
    return 2;
}
