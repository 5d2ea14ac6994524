/* test_read: thousands of random ranges over hundreds of files, read through
 * the posix backend and through whatever AUTO picks (uring when it works),
 * pooled, into caller memory and into scattered pieces of it (random piece
 * sizes, empty pieces among them), with negative offsets and TO_END; every
 * byte is compared with pread. Then both again while a timer interrupts the
 * process every 50 us with a handler installed without SA_RESTART, so that
 * blocking calls in every thread (reads, io_uring waits, futex and
 * condition waits) see EINTR: the results must be the same. */
#include <inttypes.h>

#include "io_testutil.h"

#define NFILES 200
#define NRANGES 6000

typedef struct {
    int file;
    uint64_t off; /* resolved */
    size_t len;
    unsigned char *dest;
    struct iovec *iov; /* scattered: pieces of dest, in order */
    size_t iovcnt;
    int done;
} want_t;

static void run(const char *which, const char *dir, char **paths, size_t *sizes)
{
    lsio_io *io = tu_open(which, dir, 0, 64u << 20);
    CHECK(io);
    printf("%s: backend %s%s%s\n", which, lsio_io_backend_name(io),
           lsio_io_fallback_reason(io) ? ", " : "",
           lsio_io_fallback_reason(io) ? lsio_io_fallback_reason(io) : "");
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    want_t *w = calloc(NRANGES, sizeof *w);
    uint64_t seed = 42;
    size_t i = 0;
    while (i < NRANGES) {
        /* One call per file with 1..40 ranges. */
        int f = (int)(tu_rand(&seed) % NFILES);
        size_t n = 1 + tu_rand(&seed) % 40;
        if (n > NRANGES - i)
            n = NRANGES - i;
        lsio_range r[40];
        for (size_t k = 0; k < n; k++) {
            want_t *x = &w[i + k];
            x->file = f;
            size_t sz = sizes[f];
            uint64_t off = sz ? tu_rand(&seed) % sz : 0;
            size_t len = sz - off ? 1 + tu_rand(&seed) % (sz - off) : 0;
            if (tu_rand(&seed) % 4 == 0 && len > 4096)
                len = 1 + len % 4096;
            x->off = off;
            x->len = len;
            r[k] = (lsio_range){.offset = (int64_t)off, .length = (int64_t)len,
                                .user_data = i + k};
            switch (tu_rand(&seed) % 7) {
            case 0: /* from the end */
                r[k].offset = (int64_t)off - (int64_t)sz;
                if (r[k].offset == 0) /* -0 is 0: fine either way */
                    r[k].offset = 0;
                break;
            case 1: /* to the end */
                r[k].length = LSIO_TO_END;
                x->len = sz - off;
                break;
            case 2: /* caller memory */
            case 3:
                x->dest = malloc(len ? len : 1);
                r[k].dest = x->dest;
                break;
            case 4: /* scattered into pieces of caller memory, gaps between */
                if (!len)
                    break;
                x->iov = calloc(len + 8, sizeof *x->iov);
                x->dest = malloc(2 * len + 8);
                for (size_t at = 0, p = 0; at < len; x->iovcnt++) {
                    size_t pl = tu_rand(&seed) % 5 == 0 ? 0 : 1 + tu_rand(&seed) % 3000;
                    if (pl > len - at)
                        pl = len - at;
                    x->iov[x->iovcnt] = (struct iovec){x->dest + p, pl};
                    at += pl;
                    p += pl + (pl & 1); /* a gap after odd pieces */
                }
                r[k].iov = x->iov;
                r[k].iovcnt = x->iovcnt;
                break;
            }
        }
        CHECK_OK(lsio_get_ranges(io, cq, paths[f], r, n, 0));
        i += n;
    }
    size_t got = 0;
    lsio_completion c[64];
    while (got < NRANGES) {
        int k = lsio_cq_wait(cq, c, 64, 10000);
        CHECK(k > 0);
        for (int j = 0; j < k; j++) {
            want_t *x = &w[c[j].user_data];
            if (c[j].status)
                fprintf(stderr, "range %" PRIu64 ": %s\n", c[j].user_data, c[j].error);
            CHECK_EQ(c[j].status, 0);
            CHECK(!x->done);
            x->done = 1;
            CHECK_EQ(c[j].len, x->len);
            if (x->iov) {
                CHECK(!c[j].data && !c[j].buf);
                unsigned char *flat = malloc(x->len);
                for (size_t v = 0, at = 0; v < x->iovcnt; at += x->iov[v].iov_len, v++)
                    memcpy(flat + at, x->iov[v].iov_base, x->iov[v].iov_len);
                CHECK(tu_same_as_file(paths[x->file], x->off, flat, x->len));
                free(flat);
            } else {
                if (x->dest && x->len)
                    CHECK(c[j].data == x->dest && !c[j].buf);
                if (c[j].buf)
                    CHECK(lsio_buf_data(c[j].buf) == c[j].data &&
                          lsio_buf_len(c[j].buf) == x->len);
                CHECK(tu_same_as_file(paths[x->file], x->off, c[j].data, x->len));
            }
            lsio_completion_release(&c[j]);
            got++;
        }
    }
    CHECK_EQ(lsio_cq_pending(cq), 0);
    lsio_io_stats st;
    lsio_io_stats_get(io, &st);
    CHECK_EQ(st.ranges, NRANGES);
    CHECK_EQ(st.errors, 0);
    printf("%s: %" PRIu64 " ranges in %" PRIu64 " requests, %" PRIu64 " bytes, %" PRIu64
           " direct\n",
           which, st.ranges, st.requests, st.bytes, st.direct_reads);
    lsio_bufpool_stats ps;
    CHECK_EQ(tu_pool_in_use(lsio_io_pool(io), &ps), 0);
    CHECK(ps.high_water <= ps.max_bytes);
    lsio_io_close(io);
    lsio_cq_destroy(cq);
    for (i = 0; i < NRANGES; i++) {
        free(w[i].dest);
        free(w[i].iov);
    }
    free(w);
}

int main(void)
{
    const char *dir = test_tmpdir("io_read");
    char *paths[NFILES];
    size_t sizes[NFILES];
    uint64_t seed = 7;
    for (int f = 0; f < NFILES; f++) {
        char name[32];
        snprintf(name, sizeof name, "f%03d", f);
        sizes[f] = f % 50 == 0 ? 0 : tu_rand(&seed) % (f % 7 == 0 ? (3u << 20) : 200000);
        paths[f] = tu_make_file(dir, name, sizes[f], (uint64_t)f);
    }
    int fds = tu_fds(), threads = tu_threads_baseline();
    run("posix", dir, paths, sizes);
    run("auto", dir, paths, sizes);
    tu_interrupts(50);
    run("posix", dir, paths, sizes);
    run("auto", dir, paths, sizes);
    long ticks = tu_interrupts(0);
    printf("interrupted %ld times\n", ticks);
    CHECK(ticks > 100);
    CHECK_EQ(tu_fds(), fds);
    CHECK_EQ(tu_threads_settled(threads), threads);
    for (int f = 0; f < NFILES; f++)
        free(paths[f]);
    tu_rm_rf(dir);
    return 0;
}
