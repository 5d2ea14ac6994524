/*
 * io_testutil.h — helpers for the IO tests (tests/io, tests/posix): files
 * with known contents, reference reads with pread, fd and thread counts.
 */
#ifndef LSIO_IO_TESTUTIL_H
#define LSIO_IO_TESTUTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lsio_io.h"
#include "testutil.h"

/* A fast deterministic generator (splitmix64). */
static inline uint64_t tu_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Write `size` pseudo-random bytes (from seed) to dir/name; returns the
 * path (malloc'd). */
static inline char *tu_make_file(const char *dir, const char *name, size_t size, uint64_t seed)
{
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    unsigned char buf[65536];
    uint64_t s = seed;
    for (size_t done = 0; done < size;) {
        size_t n = size - done < sizeof buf ? size - done : sizeof buf;
        for (size_t i = 0; i < n; i += 8) {
            uint64_t v = tu_rand(&s);
            memcpy(buf + i, &v, n - i < 8 ? n - i : 8);
        }
        if (write(fd, buf, n) != (ssize_t)n) {
            perror("write");
            exit(1);
        }
        done += n;
    }
    close(fd);
    return path;
}

/* Compare len bytes at off of path (read with pread) with data. */
static inline int tu_same_as_file(const char *path, uint64_t off, const void *data, size_t len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    unsigned char *ref = malloc(len ? len : 1);
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, ref + got, len - got, (off_t)(off + got));
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    int same = got == len && (len == 0 || memcmp(ref, data, len) == 0);
    free(ref);
    return same;
}

static inline int tu_count_dir(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static inline int tu_fds(void) { return tu_count_dir("/proc/self/fd"); }
/* The process's live threads. Not counted: threads that have exited but
 * are not reaped yet (state Z or X: pthread_join returns before the kernel
 * lets go of the task, so a thread of an io closed just before may still
 * be listed when a test takes its baseline, and gone at its end), and
 * io_uring's kernel workers (iou-wrk-N, iou-sqp-N), which the kernel starts
 * and reaps on its own schedule. */
static inline int tu_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], stat[512] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue; /* gone meanwhile */
        size_t len = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[len] = 0;
        const char *open = strchr(stat, '('), *close = strrchr(stat, ')');
        if (!open || !close || close < open)
            continue;
        char state = close[1] == ' ' ? close[2] : 0;
        if (state == 'Z' || state == 'X' || !strncmp(open + 1, "iou-", 4))
            continue;
        n++;
    }
    closedir(d);
    return n;
}

/* A test's baseline: the fewest threads seen over 50 ms. A thread of an
 * io closed just before can still be listed (pthread_join returns while
 * the kernel is still tearing the task down, before it shows as exited);
 * counted in the baseline, it would make the end count look one short. */
static inline int tu_threads_baseline(void)
{
    int n = tu_threads();
    for (int i = 0; i < 10; i++) {
        usleep(5000);
        int m = tu_threads();
        n = m < n ? m : n;
    }
    return n;
}

/* Threads exit asynchronously after join on some kernels' accounting:
 * wait briefly for the count to settle. */
static inline int tu_threads_settled(int want)
{
    for (int i = 0; i < 200 && tu_threads() != want; i++)
        usleep(5000);
    return tu_threads();
}

/* Bytes of the pool in use once the IO core has let go: its last
 * reference to a request's buffer may go just after the request's
 * completions were pushed (and consumed), so wait up to 2 s for 0. A leak
 * stays above 0. */
static inline size_t tu_pool_in_use(lsio_bufpool *p, lsio_bufpool_stats *ps)
{
    for (int i = 0; i < 400; i++) {
        lsio_bufpool_stats_get(p, ps);
        if (!ps->in_use)
            break;
        usleep(5000);
    }
    return ps->in_use;
}

static inline void tu_rm_rf(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Open a backend by name ("posix", "uring", "auto"). */
static inline lsio_io *tu_open(const char *which, const char *loc, unsigned workers,
                               size_t pool_bytes)
{
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.backend = !strcmp(which, "posix")   ? LSIO_BACKEND_POSIX
                : !strcmp(which, "uring") ? LSIO_BACKEND_URING
                                          : LSIO_BACKEND_AUTO;
    o.workers = workers;
    o.pool_bytes = pool_bytes;
    lsio_io *io = NULL;
    int rc = lsio_io_open(&io, loc, &o);
    if (rc < 0) {
        fprintf(stderr, "open %s backend: %s\n", which, lsio_last_error());
        return NULL;
    }
    return io;
}

#endif
