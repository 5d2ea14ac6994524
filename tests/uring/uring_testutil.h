/*
 * uring_testutil.h — helpers for the uring backend's tests: skip when the
 * kernel has no usable io_uring, open the uring backend with given workers,
 * depth and O_DIRECT mode, and read random ranges checked against pread.
 */
#ifndef LSIO_URING_TESTUTIL_H
#define LSIO_URING_TESTUTIL_H

#include <inttypes.h>
#include <liburing.h>

#include "../io/io_testutil.h"

/* Exit 77 unless io_uring rings can be made here. */
static inline void ut_require_uring(void)
{
    struct io_uring r;
    int rc = io_uring_queue_init(4, &r, 0);
    if (rc < 0)
        SKIP("io_uring unavailable here: io_uring_queue_init: %s", strerror(-rc));
    io_uring_queue_exit(&r);
}

static inline lsio_io *ut_open(const char *loc, unsigned workers, unsigned depth, int direct)
{
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.backend = LSIO_BACKEND_URING;
    o.workers = workers;
    o.depth = depth;
    o.direct = direct;
    o.pool_bytes = 64u << 20;
    lsio_io *io = NULL;
    int rc = lsio_io_open(&io, loc, &o);
    if (rc < 0) {
        fprintf(stderr, "open uring: %s\n", lsio_last_error());
        exit(1);
    }
    CHECK(!strcmp(lsio_io_backend_name(io), "uring"));
    return io;
}

/* Read nr random ranges spread over nf files (sizes[]) — pooled, into
 * caller memory (aligned or not), from the end, to the end — and compare
 * every byte with pread. Returns how many completed. */
static inline size_t ut_read_check(lsio_io *io, char **paths, const size_t *sizes, int nf,
                                   size_t nr, uint64_t seed)
{
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    typedef struct {
        int f;
        uint64_t off;
        size_t len;
        unsigned char *mem;
    } want_t;
    want_t *w = calloc(nr, sizeof *w);
    CHECK(w);
    for (size_t i = 0; i < nr;) {
        int f = (int)(tu_rand(&seed) % (uint64_t)nf);
        size_t n = 1 + tu_rand(&seed) % 16, sz = sizes[f];
        if (n > nr - i)
            n = nr - i;
        lsio_range r[16];
        for (size_t k = 0; k < n; k++) {
            want_t *x = &w[i + k];
            uint64_t off = tu_rand(&seed) % sz;
            size_t len = 1 + tu_rand(&seed) % (sz - off);
            if (tu_rand(&seed) % 3 == 0 && len > 8192)
                len = 1 + len % 8192;
            *x = (want_t){.f = f, .off = off, .len = len};
            r[k] = (lsio_range){.offset = (int64_t)off, .length = (int64_t)len,
                                .user_data = i + k};
            switch (tu_rand(&seed) % 5) {
            case 0:
                r[k].offset = (int64_t)off - (int64_t)sz;
                break;
            case 1:
                r[k].length = LSIO_TO_END;
                x->len = sz - off;
                break;
            case 2: /* aligned caller memory: may go O_DIRECT */
                CHECK(posix_memalign((void **)&x->mem, 4096, len + 4096) == 0);
                r[k].dest = x->mem;
                break;
            case 3: /* unaligned caller memory */
                x->mem = malloc(len + 1);
                r[k].dest = x->mem + 1;
                break;
            }
        }
        CHECK_OK(lsio_get_ranges(io, cq, paths[f], r, n, (uint32_t)(tu_rand(&seed) % 3)));
        i += n;
    }
    size_t got = 0;
    lsio_completion c[64];
    while (got < nr) {
        int k = lsio_cq_wait(cq, c, 64, 20000);
        CHECK(k > 0);
        for (int j = 0; j < k; j++) {
            want_t *x = &w[c[j].user_data];
            if (c[j].status)
                fprintf(stderr, "%s\n", c[j].error);
            CHECK_EQ(c[j].status, 0);
            CHECK_EQ(c[j].len, x->len);
            CHECK(tu_same_as_file(paths[x->f], x->off, c[j].data, x->len));
            free(x->mem);
            x->mem = NULL;
            lsio_completion_release(&c[j]);
            got++;
        }
    }
    CHECK_EQ(lsio_cq_pending(cq), 0);
    lsio_cq_destroy(cq);
    free(w);
    return got;
}

/* Can this directory's file system do an aligned O_DIRECT read? */
static inline int ut_fs_takes_direct(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECT);
    if (fd < 0)
        return 0;
    void *m;
    if (posix_memalign(&m, 4096, 4096)) {
        close(fd);
        return 0;
    }
    ssize_t r = pread(fd, m, 4096, 0);
    free(m);
    close(fd);
    return r >= 0;
}

#endif
