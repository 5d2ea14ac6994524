/*
 * testutil.h — the few helpers every C test program uses.
 *
 * A test program exits 0 when it passes, 77 when it must skip (printing the
 * reason as its last line) and 1 when a check fails (printing where).
 */
#ifndef LSIO_TESTUTIL_H
#define LSIO_TESTUTIL_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define CHECK_EQ(a, b)                                                         \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_) {                                                        \
            fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n",  \
                    __FILE__, __LINE__, #a, #b, a_, b_);                       \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

/* Fail unless rc is 0 (or a count >= 0), showing lsio's message. */
#define CHECK_OK(expr)                                                         \
    do {                                                                       \
        long long rc_ = (long long)(expr);                                     \
        if (rc_ < 0) {                                                         \
            fprintf(stderr, "%s:%d: %s returned %lld: %s\n", __FILE__,         \
                    __LINE__, #expr, rc_, lsio_last_error());                  \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define SKIP(...)                                                              \
    do {                                                                       \
        printf("skip: ");                                                      \
        printf(__VA_ARGS__);                                                   \
        printf("\n");                                                          \
        exit(77);                                                              \
    } while (0)

/* A fresh directory for this test under $LSIO_TEST_TMP (or /tmp); the
 * returned path is static storage. */
static inline const char *test_tmpdir(const char *name)
{
    static char path[4096];
    const char *base = getenv("LSIO_TEST_TMP");
    snprintf(path, sizeof path, "%s/%s.XXXXXX", base && *base ? base : "/tmp", name);
    for (char *p = path + strlen(base && *base ? base : "/tmp") + 1; *p; p++)
        if (*p == '/')
            *p = '_';
    if (!mkdtemp(path)) {
        perror("mkdtemp");
        exit(1);
    }
    return path;
}

/* Interrupt the process with SIGALRM every `us` microseconds (0: stop),
 * its handler installed without SA_RESTART, so that blocking calls in any
 * thread (reads, io_uring and futex waits, condition waits, poll) return
 * EINTR: code under test must retry them. Returns the signals seen so far. */
static volatile sig_atomic_t tu_ticks;
static inline void tu_on_tick(int sig)
{
    (void)sig;
    tu_ticks++;
}
static inline long tu_interrupts(long us)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = us ? tu_on_tick : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART */
    if (us && sigaction(SIGALRM, &sa, NULL) < 0)
        exit(1);
    struct itimerval it = {{0, us}, {0, us}};
    if (setitimer(ITIMER_REAL, &it, NULL) < 0)
        exit(1);
    if (!us && sigaction(SIGALRM, &sa, NULL) < 0)
        exit(1);
    return (long)tu_ticks;
}

#endif
