/*
 * localfs.c — local file system helpers shared by the local backends
 * (posix, uring): size, delete, recursive listing, mkdir -p, and the atomic
 * put (write a temp file beside the target, optionally fsync, rename).
 *
 * Kept in lib/io so that no backend carries its own copy.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "io_backend.h"

int lsio__local_size(const char *path, uint64_t *size)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return lsio_error(-errno, "size %s", path);
    if (S_ISDIR(st.st_mode))
        return lsio_error(-EISDIR, "size %s", path);
    *size = (uint64_t)st.st_size;
    return 0;
}

#ifndef __NR_cachestat
#define __NR_cachestat 451 /* the same number on every architecture */
#endif
struct lsio_cachestat_range { uint64_t off, len; };
struct lsio_cachestat { uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted; };
static atomic_int no_cachestat;

int lsio__local_cached(const char *path, uint64_t off, uint64_t len)
{
    if (atomic_load_explicit(&no_cachestat, memory_order_relaxed) || len == 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        uint64_t size = (uint64_t)st.st_size, page = (uint64_t)sysconf(_SC_PAGESIZE);
        uint64_t end = len > size || off > size - len ? size : off + len;
        if (off >= end) {
            rc = 1; /* nothing to read but the end of the file */
        } else {
            struct lsio_cachestat_range r = {off, end - off};
            struct lsio_cachestat cs;
            if (syscall(__NR_cachestat, (unsigned)fd, &r, &cs, 0u) == 0) {
                uint64_t pages = (end + page - 1) / page - off / page;
                rc = cs.nr_cache >= pages;
            } else if (errno == ENOSYS) {
                atomic_store(&no_cachestat, 1);
            }
        }
    }
    close(fd);
    return rc;
}

void lsio__cache_budget_init(lsio__cache_budget *b)
{
    uint64_t n = 0;
    const char *e = getenv("LSIO_CACHE_BUDGET");
    if (!e || lsio_parse_bytes(e, &n) < 0) {
        n = 0;
        FILE *f = fopen("/proc/meminfo", "re");
        char line[128];
        unsigned long long kb;
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                n = (uint64_t)kb * 1024 / 4;
                break;
            }
        if (f)
            fclose(f);
    }
    atomic_init(&b->left, n);
}

int lsio__local_buffered(lsio__cache_budget *b, const char *path, uint64_t off, uint64_t len)
{
    if (lsio__local_cached(path, off, len) == 1)
        return 1;
    uint64_t left = atomic_load_explicit(&b->left, memory_order_relaxed);
    while (left >= len)
        if (atomic_compare_exchange_weak_explicit(&b->left, &left, left - len,
                                                  memory_order_relaxed, memory_order_relaxed))
            return 1;
    return 0;
}

int lsio__local_delete(const char *path)
{
    if (unlink(path) == 0 || errno == ENOENT)
        return 0;
    int err = errno == EPERM ? EISDIR : errno; /* Linux: unlink(dir) is EISDIR/EPERM */
    struct stat st;
    if (err != EISDIR && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        err = EISDIR;
    return lsio_error(-err, "delete %s", path);
}

/* ---------------------------------------------------------------- listing */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk dir (path text in buf[0..len)), reporting files starting with
 * prefix. buf is grown as needed. */
static int walk(char **buf, size_t *cap, size_t len, const char *prefix, lsio_list_fn fn,
                void *ctx)
{
    DIR *d = opendir(*buf);
    if (!d)
        return errno == ENOENT || errno == ENOTDIR ? 0 : lsio_error(-errno, "list %s", *buf);
    char **names = NULL;
    size_t n = 0, ncap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            strstr(e->d_name, ".lsio-tmp."))
            continue;
        if (n == ncap) {
            ncap = ncap ? ncap * 2 : 32;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (!nn) {
                rc = -ENOMEM;
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name))) {
            rc = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp);
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t nl = strlen(names[i]);
        int slash = len > 0 && (*buf)[len - 1] != '/';
        if (len + slash + nl + 1 > *cap) {
            size_t ncap2 = (len + slash + nl + 1) * 2;
            char *nb = realloc(*buf, ncap2);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            *buf = nb;
            *cap = ncap2;
        }
        size_t l2 = len;
        if (slash)
            (*buf)[l2++] = '/';
        memcpy(*buf + l2, names[i], nl + 1);
        l2 += nl;
        /* Skip what cannot match: neither side is a prefix of the other. */
        size_t cmp = l2 < plen ? l2 : plen;
        if (strncmp(*buf, prefix, cmp) != 0)
            goto next;
        struct stat st;
        if (stat(*buf, &st) < 0)
            goto next; /* vanished or dangling link */
        if (S_ISDIR(st.st_mode)) {
            rc = walk(buf, cap, l2, prefix, fn, ctx);
        } else if (S_ISREG(st.st_mode) && l2 >= plen) {
            int r = fn(ctx, *buf, (uint64_t)st.st_size);
            if (r)
                rc = r < 0 ? r : 1;
        }
    next:
        (*buf)[len] = '\0';
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int lsio__local_list(const char *prefix, lsio_list_fn fn, void *ctx)
{
    /* A bare relative name is listed as "./name..." */
    char *dotted = NULL;
    if (!strchr(prefix, '/')) {
        size_t n = strlen(prefix) + 3;
        if (!(dotted = malloc(n)))
            return -ENOMEM;
        snprintf(dotted, n, "./%s", prefix);
        prefix = dotted;
    }
    size_t plen = strlen(prefix);
    size_t cap = plen + 256;
    char *buf = malloc(cap);
    int rc = 0;
    if (!buf) {
        free(dotted);
        return -ENOMEM;
    }
    memcpy(buf, prefix, plen + 1);
    struct stat st;
    if (stat(prefix, &st) == 0 && S_ISREG(st.st_mode)) {
        rc = fn(ctx, prefix, (uint64_t)st.st_size);
    } else {
        size_t len = plen;
        if (!(stat(prefix, &st) == 0 && S_ISDIR(st.st_mode))) {
            char *slash = strrchr(buf, '/'); /* there is one */
            len = slash == buf ? 1 : (size_t)(slash - buf);
            buf[len] = '\0';
        }
        rc = walk(&buf, &cap, len, prefix, fn, ctx);
    }
    free(buf);
    free(dotted);
    return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------------- writing */

int lsio__mkdir_parents(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    char *slash = strrchr(p, '/');
    if (!slash || slash == p) {
        free(p);
        return 0;
    }
    *slash = '\0';
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) < 0 && errno != EEXIST) {
                rc = lsio_error(-errno, "mkdir %s", p);
                break;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    return rc;
}

char *lsio__temp_name(const char *path)
{
    static atomic_uint counter;
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dl;
    size_t n = strlen(path) + 64;
    char *t = malloc(n);
    if (t)
        snprintf(t, n, "%.*s.%s.lsio-tmp.%ld.%u", (int)dl, path, base, (long)getpid(),
                 atomic_fetch_add(&counter, 1));
    return t;
}

int lsio__pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
    const unsigned char *p = buf;
    while (len) {
        ssize_t w = pwrite(fd, p, len, (off_t)off);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -errno;
        }
        p += w;
        off += (uint64_t)w;
        len -= (size_t)w;
    }
    return 0;
}

int lsio__put_commit(int fd, const char *tmp, const char *path, unsigned flags)
{
    int rc = 0;
    if ((flags & LSIO_PUT_FSYNC) && fsync(fd) < 0)
        rc = lsio_error(-errno, "fsync %s", tmp);
    if (close(fd) < 0 && rc == 0)
        rc = lsio_error(-errno, "close %s", tmp);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = lsio_error(-errno, "rename %s to %s", tmp, path);
    if (rc < 0) {
        unlink(tmp);
        return rc;
    }
    if (flags & LSIO_PUT_FSYNC) {
        char *dir = strdup(path);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    return 0;
}

int lsio__local_put(const char *path, const void *data, size_t len, unsigned flags)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return lsio_error(-EISDIR, "put %s", path);
    int rc = lsio__mkdir_parents(path);
    if (rc < 0)
        return rc;
    char *tmp = lsio__temp_name(path);
    if (!tmp)
        return -ENOMEM;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = lsio_error(-errno, "create %s", tmp);
        free(tmp);
        return rc;
    }
    rc = lsio__pwrite_full(fd, data, len, 0);
    if (rc < 0) {
        lsio_error(rc, "write %s", tmp);
        close(fd);
        unlink(tmp);
    } else {
        rc = lsio__put_commit(fd, tmp, path, flags);
    }
    free(tmp);
    return rc;
}

void lsio__local_put_op(lsio_op *op)
{
    lsio_error_clear();
    int rc = lsio__local_put(op->location, op->dst, op->len, op->flags);
    if (rc < 0) {
        op->status = rc;
        const char *m = lsio_last_error();
        op->error = *m ? strdup(m) : NULL;
    } else {
        op->done = op->len;
    }
}
