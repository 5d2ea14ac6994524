/*
 * pool_test.h — helpers shared by the tests of lib/pool: how much work a
 * test may do under the current build (sanitizers slow it down), a watchdog
 * that turns a hang into a failure, and how many threads the process has
 * (to catch leaked workers).
 */
#ifndef LSIO_POOL_TEST_H
#define LSIO_POOL_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#define POOL_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define POOL_TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define POOL_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_TEST_ASAN 1
#endif
#endif

/* Divide a plain-build workload by this ($LSIO_POOL_TEST_DIV overrides). */
static inline unsigned pool_test_div(void)
{
    const char *e = getenv("LSIO_POOL_TEST_DIV");
    if (e && atoi(e) > 0)
        return (unsigned)atoi(e);
#if defined(POOL_TEST_TSAN)
    return 20;
#elif defined(POOL_TEST_ASAN)
    return 4;
#else
    return 1;
#endif
}

/* A hang (a lost wake-up, a deadlock) fails the test instead of stalling
 * the suite: SIGALRM's default action ends the process. */
static inline void pool_test_watchdog(unsigned seconds)
{
    alarm(seconds);
}

/* Threads of this process, from /proc/self/task. */
static inline int pool_test_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* The thread count once it settles at `want` (a joined thread can stay
 * listed in /proc for a moment after pthread_join returns): polls up to 2 s
 * and returns the last count seen. */
static inline int pool_test_threads_settle(int want)
{
    int n = pool_test_threads();
    for (int i = 0; i < 2000 && n != want; i++) {
        usleep(1000);
        n = pool_test_threads();
    }
    return n;
}

#endif
