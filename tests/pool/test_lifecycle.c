/*
 * test_lifecycle.c — lsio_pool creation and destruction: pools created and
 * destroyed in a loop (busy or idle) leave no thread behind (counted in
 * /proc/self/task); 0 threads means one per core; absurd counts are refused;
 * the default pool is one pool, created once even when many threads ask at
 * the same moment, and sized by $LSIO_THREADS; a child made by fork() gets
 * a working default pool of its own; workers run with signals blocked (so
 * signals reach the application's threads) and the creator's mask is kept.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lsio_pool.h"
#include "pool_test.h"
#include "testutil.h"

static _Atomic long g_ran;

static void count(void *arg)
{
    (void)arg;
    atomic_fetch_add_explicit(&g_ran, 1, memory_order_relaxed);
}

static void test_loop(unsigned div)
{
    int before = pool_test_threads();
    CHECK(before > 0);
    int rounds = 300 / (int)div + 5;
    long expect = 0;
    for (int i = 0; i < rounds; i++) {
        lsio_pool *p;
        unsigned n = 1 + (unsigned)i % 6;
        CHECK_OK(lsio_pool_create(&p, n));
        CHECK_EQ(lsio_pool_threads(p), n);
        CHECK_EQ(pool_test_threads_settle(before + (int)n), before + (int)n);
        if (i % 3 == 1) { /* destroyed busy: queued tasks still run */
            for (int j = 0; j < 200; j++)
                CHECK_OK(lsio_pool_submit(p, NULL, count, NULL));
            expect += 200;
        } else if (i % 3 == 2) { /* destroyed right after a wait */
            lsio_taskgroup *g;
            CHECK_OK(lsio_taskgroup_create(&g));
            for (int j = 0; j < 50; j++)
                CHECK_OK(lsio_pool_submit(p, g, count, NULL));
            CHECK_EQ(lsio_taskgroup_wait(g), 0);
            lsio_taskgroup_destroy(g);
            expect += 50;
        }
        lsio_pool_destroy(p);
        CHECK_EQ(pool_test_threads_settle(before), before);
    }
    CHECK_EQ(atomic_load(&g_ran), expect);
}

static void *ask_default(void *arg)
{
    *(lsio_pool **)arg = lsio_pool_default();
    return NULL;
}

static void run_counted(lsio_pool *p, int n)
{
    lsio_taskgroup *g;
    CHECK_OK(lsio_taskgroup_create(&g));
    atomic_store(&g_ran, 0);
    for (int j = 0; j < n; j++)
        CHECK_OK(lsio_pool_submit(p, g, count, NULL));
    CHECK_EQ(lsio_taskgroup_wait(g), 0);
    CHECK_EQ(atomic_load(&g_ran), n);
    lsio_taskgroup_destroy(g);
}

static void sigmask_probe(void *arg)
{
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    *(int *)arg = sigismember(&cur, SIGINT) == 1 && sigismember(&cur, SIGALRM) == 1 &&
                  sigismember(&cur, SIGTERM) == 1;
}

static void test_sigmask(void)
{
    sigset_t before, after;
    pthread_sigmask(SIG_BLOCK, NULL, &before);
    CHECK(!sigismember(&before, SIGINT));
    lsio_pool *p;
    CHECK_OK(lsio_pool_create(&p, 2));
    pthread_sigmask(SIG_BLOCK, NULL, &after);
    CHECK(!sigismember(&after, SIGINT)); /* the caller's mask is back */
    int blocked[4] = {0};
    lsio_taskgroup *g;
    CHECK_OK(lsio_taskgroup_create(&g));
    for (int i = 0; i < 4; i++)
        CHECK_OK(lsio_pool_submit(p, g, sigmask_probe, &blocked[i]));
    CHECK_EQ(lsio_taskgroup_wait(g), 0);
    for (int i = 0; i < 4; i++)
        CHECK(blocked[i]);
    lsio_taskgroup_destroy(g);
    lsio_pool_destroy(p);
}

static void test_fork(lsio_pool *parent_default)
{
#if defined(POOL_TEST_TSAN)
    (void)parent_default; /* TSan does not support threads after fork */
#else
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(30);
        lsio_pool *d = lsio_pool_default();
        CHECK(d != NULL);
        CHECK(d != parent_default); /* the parent's threads are gone */
        CHECK(lsio_pool_default() == d);
        run_counted(d, 1000);
        lsio_pool *p;
        CHECK_OK(lsio_pool_create(&p, 2));
        run_counted(p, 1000);
        lsio_pool_destroy(p);
        _exit(0); /* no leak check here: LeakSanitizer in a forked child
                   * sees the parent's threads as running and misreports */
    }
    int status;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    run_counted(parent_default, 1000); /* still fine here */
#endif
}

int main(void)
{
    unsigned div = pool_test_div();
    pool_test_watchdog(120);
    lsio_pool *p;

    CHECK_OK(lsio_pool_create(&p, 0));
    CHECK_EQ(lsio_pool_threads(p), lsio_ncpus());
    lsio_pool_destroy(p);
    lsio_pool_destroy(NULL);
    CHECK_EQ(lsio_pool_create(&p, 1u << 30), -EINVAL);
    CHECK(p == NULL);

    test_loop(div);
    test_sigmask();

    /* Ask for the default pool from many threads at once. */
    CHECK_EQ(setenv("LSIO_THREADS", "3", 1), 0);
    enum { N = 16 };
    pthread_t t[N];
    lsio_pool *got[N];
    for (int i = 0; i < N; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, ask_default, &got[i]), 0);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    CHECK(got[0] != NULL);
    for (int i = 1; i < N; i++)
        CHECK(got[i] == got[0]);
    CHECK(lsio_pool_default() == got[0]);
    CHECK_EQ(lsio_pool_threads(got[0]), 3);

    run_counted(got[0], 1000);

    lsio_pool_stats st;
    lsio_pool_stats_get(got[0], &st);
    CHECK(st.executed >= 1000);

    test_fork(got[0]);
    printf("ok\n");
    return 0;
}
