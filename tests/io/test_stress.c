/* test_stress: randomized long-running test of the IO backends.
 *
 * Each round opens posix or AUTO (uring where it works) with random workers,
 * depth, pool bound, merge gap, split size and O_DIRECT mode, then submits
 * random calls over random files: pooled and caller-owned (sometimes
 * aligned) destinations, negative offsets, TO_END, empty ranges, ranges past
 * EOF and larger than the pool, in random groups, on a queue or through a
 * callback. Every completion is checked: its status against what the range
 * deserves, every byte against pread, the guard bytes after caller memory,
 * and group order (a successful read of group n never completes after one
 * of a later group submitted in the same phase). Some rounds close the io
 * with work in flight. At the end no fd or thread is left.
 *
 *   test_stress                 about 5 s (LSIO_STRESS_SECONDS overrides)
 *   test_stress --minutes N     the long run
 *   test_stress --seed S        reproduce a run
 */
#include <inttypes.h>
#include <pthread.h>

#include "io_testutil.h"

#define NFILES 120
#define MAXR 64
#define GUARD 16

static char *paths[NFILES];
static size_t sizes[NFILES];

typedef struct {
    int file;
    lsio_range r;
    uint64_t off;     /* expected absolute offset */
    size_t len;       /* expected length */
    int ok_status[3]; /* acceptable statuses */
    int nok;
    unsigned char *mem; /* caller dest allocation (with guard) */
    int mem_aligned;    /* mem from lsio_alloc_aligned (else malloc) */
    uint32_t group;
    int done;
} expect_t;

typedef struct {
    pthread_mutex_t mu;
    expect_t *x;
    size_t n;
    uint32_t *order; /* groups of successful IO completions, in order */
    size_t norder;
    uint64_t bytes, errors, cancelled;
    size_t ndone;
    int allow_cancel;
} phase_t;

static void check_one(phase_t *ph, lsio_completion *c)
{
    CHECK(c->user_data < ph->n);
    expect_t *x = &ph->x[c->user_data];
    CHECK(!x->done);
    x->done = 1;
    ph->ndone++;
    int fine = 0;
    for (int i = 0; i < x->nok; i++)
        fine |= c->status == x->ok_status[i];
    if (ph->allow_cancel && c->status == -ECANCELED)
        fine = 1;
    if (!fine)
        fprintf(stderr, "file %d range (%" PRId64 ", %" PRId64 ") dest %d: status %d (%s), want %d\n",
                x->file, x->r.offset, x->r.length, x->r.dest != NULL, c->status,
                c->error ? c->error : "-", x->ok_status[0]);
    CHECK(fine);
    if (c->status) {
        CHECK(c->error && strstr(c->error, paths[x->file]));
        CHECK(!c->buf);
        ph->errors++;
        ph->cancelled += c->status == -ECANCELED;
    } else {
        CHECK_EQ(c->len, x->len);
        if (x->r.dest && x->len)
            CHECK(c->data == x->r.dest);
        if (c->buf)
            CHECK(lsio_buf_data(c->buf) == c->data && lsio_buf_len(c->buf) == c->len);
        CHECK(tu_same_as_file(paths[x->file], x->off, c->data, c->len));
        ph->bytes += c->len;
        if (x->len)
            ph->order[ph->norder++] = x->group;
    }
    if (x->mem) {
        unsigned char *g = (unsigned char *)x->r.dest + (x->r.length > 0 ? x->r.length : 0);
        for (int i = 0; i < GUARD; i++)
            CHECK_EQ(g[i], 0xA5);
    }
    lsio_completion_release(c);
}

static void on_done(void *ctx, lsio_completion *c)
{
    phase_t *ph = ctx;
    pthread_mutex_lock(&ph->mu);
    check_one(ph, c);
    pthread_mutex_unlock(&ph->mu);
}

/* Fill x for a random range of file f; size_known: the call resolves sizes. */
static void make_range(expect_t *x, int f, uint64_t *s, size_t pool_max, int aligned_mem)
{
    size_t sz = sizes[f];
    memset(x, 0, sizeof *x);
    x->file = f;
    uint64_t kind = tu_rand(s) % 100;
    uint64_t off = sz ? tu_rand(s) % sz : 0;
    uint64_t len = sz - off ? 1 + tu_rand(s) % (sz - off) : 0;
    if (tu_rand(s) % 3 == 0 && len > 8192)
        len = 1 + len % 8192;
    x->r.offset = (int64_t)off;
    x->r.length = (int64_t)len;
    x->off = off;
    x->len = len;
    x->ok_status[x->nok++] = 0;
    if (kind < 8) { /* from the end */
        x->r.offset = (int64_t)off - (int64_t)sz;
    } else if (kind < 14) { /* to the end */
        x->r.length = LSIO_TO_END;
        x->len = sz - off;
    } else if (kind < 18) { /* empty */
        x->r.length = 0;
        x->len = 0;
    } else if (kind < 22) { /* past EOF */
        x->r.length = (int64_t)(sz - off + 1 + tu_rand(s) % 10000);
        x->len = (size_t)x->r.length;
        x->nok = 0;
        x->ok_status[x->nok++] = -LSIO_ERANGE;
    } else if (kind < 24) { /* before the start */
        x->r.offset = -(int64_t)sz - 1 - (int64_t)(tu_rand(s) % 100);
        x->nok = 0;
        x->ok_status[x->nok++] = -LSIO_ERANGE;
    }
    int dest = tu_rand(s) % 3 == 0 && x->r.length != LSIO_TO_END;
    if (dest) {
        size_t n = x->r.length > 0 ? (size_t)x->r.length : 0;
        x->mem = aligned_mem ? lsio_alloc_aligned(4096, n + GUARD) : malloc(n + GUARD + 1);
        x->mem_aligned = aligned_mem;
        unsigned char *d = aligned_mem ? x->mem : x->mem + 1; /* odd address */
        memset(d + n, 0xA5, GUARD);
        x->r.dest = d;
    } else if (x->len > pool_max) {
        if (x->ok_status[0] == 0)
            x->nok = 0;
        x->ok_status[x->nok++] = -E2BIG;
    }
    if (x->r.length == 0 || (x->r.length == LSIO_TO_END && x->len == 0 && x->r.offset >= 0)) {
        x->nok = 1; /* empty: completes empty whatever the object */
        x->ok_status[0] = 0;
        x->len = 0;
    }
}

typedef struct {
    double seconds;
    uint64_t seed;
    int uring_ok;
    uint64_t rounds, ranges, bytes, errors, cancelled;
} run_t;

static void round_once(run_t *run, uint64_t *s)
{
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    int auto_backend = tu_rand(s) % 2;
    o.backend = auto_backend ? LSIO_BACKEND_AUTO : LSIO_BACKEND_POSIX;
    o.workers = 1 + (unsigned)(tu_rand(s) % 8);
    o.depth = 1 + (unsigned)(tu_rand(s) % 64);
    static const size_t pools[] = {256 << 10, 1 << 20, 4 << 20, 64 << 20};
    o.pool_bytes = pools[tu_rand(s) % 4];
    static const int64_t gaps[] = {-1, 0, 4096, 1 << 20};
    o.merge_gap = gaps[tu_rand(s) % 4];
    static const int64_t splits[] = {-1, 0, 65536, 1 << 20};
    o.split_bytes = splits[tu_rand(s) % 4];
    o.direct = (int)(tu_rand(s) % 3) - 1;
    lsio_bufpool *pool = NULL;
    if (tu_rand(s) % 2) { /* the caller's pool, checked after close */
        CHECK_OK(lsio_bufpool_create(&pool, o.pool_bytes, 4096));
        o.pool = pool;
    }
    lsio_io *io;
    CHECK_OK(lsio_io_open(&io, paths[0], &o));

    int nphases = 1 + (int)(tu_rand(s) % 3);
    int closing = tu_rand(s) % 8 == 0;
    for (int p = 0; p < nphases; p++) {
        phase_t ph;
        memset(&ph, 0, sizeof ph);
        pthread_mutex_init(&ph.mu, NULL);
        int ncalls = 1 + (int)(tu_rand(s) % 12);
        ph.x = calloc((size_t)ncalls * MAXR, sizeof *ph.x);
        ph.order = calloc((size_t)ncalls * MAXR, sizeof *ph.order);
        ph.allow_cancel = closing && p == nphases - 1;
        lsio_cq *cq;
        CHECK_OK(lsio_cq_create(&cq));
        int callback = tu_rand(s) % 4 == 0;
        if (callback)
            lsio_cq_set_callback(cq, on_done, &ph);
        uint32_t group = 0;
        for (int c = 0; c < ncalls; c++) {
            int f = (int)(tu_rand(s) % NFILES);
            size_t n = 1 + tu_rand(s) % MAXR;
            int aligned = tu_rand(s) % 2;
            lsio_range r[MAXR];
            group += (uint32_t)(tu_rand(s) % 3 == 0); /* nondecreasing */
            pthread_mutex_lock(&ph.mu);
            size_t base = ph.n;
            for (size_t k = 0; k < n; k++) {
                expect_t *x = &ph.x[base + k];
                make_range(x, f, s, o.pool_bytes, aligned);
                x->group = group;
                x->r.user_data = base + k;
                r[k] = x->r;
            }
            ph.n += n;
            pthread_mutex_unlock(&ph.mu);
            CHECK_OK(lsio_get_ranges(io, cq, paths[f], r, n, group));
        }
        if (ph.allow_cancel) {
            lsio_io_close(io);
            io = NULL;
        }
        if (!callback) {
            lsio_completion c[32];
            for (size_t got = 0; got < ph.n;) {
                int k = lsio_cq_wait(cq, c, 32, 30000);
                CHECK(k > 0); /* a hang shows here */
                for (int i = 0; i < k; i++)
                    check_one(&ph, &c[i]);
                got += (size_t)k;
            }
        } else {
            /* pending drops before the callback runs: wait for the last */
            for (int t = 0; t < 30000; t++) {
                pthread_mutex_lock(&ph.mu);
                size_t d = ph.ndone;
                pthread_mutex_unlock(&ph.mu);
                if (d == ph.n)
                    break;
                usleep(1000);
            }
            CHECK_EQ(ph.ndone, ph.n);
        }
        CHECK_EQ(lsio_cq_pending(cq), 0);
        for (size_t i = 0; i < ph.n; i++) {
            CHECK(ph.x[i].done);
            if (ph.x[i].mem_aligned)
                lsio_free_aligned(ph.x[i].mem);
            else
                free(ph.x[i].mem);
        }
        for (size_t i = 1; i < ph.norder; i++)
            CHECK(ph.order[i] >= ph.order[i - 1]);
        run->ranges += ph.n;
        run->bytes += ph.bytes;
        run->errors += ph.errors;
        run->cancelled += ph.cancelled;
        free(ph.x);
        free(ph.order);
        pthread_mutex_destroy(&ph.mu);
        lsio_cq_destroy(cq);
        if (!io)
            break;
    }
    if (io)
        lsio_io_close(io);
    if (pool) {
        /* the core's last reference to a merged buffer may go just after
         * its completions were consumed, but close waits for it */
        lsio_bufpool_stats ps;
        lsio_bufpool_stats_get(pool, &ps);
        CHECK(ps.high_water <= ps.max_bytes);
        CHECK_EQ(ps.in_use, 0);
        lsio_bufpool_destroy(pool);
    }
    run->rounds++;
}

int main(int argc, char **argv)
{
    run_t run = {.seconds = 5, .seed = (uint64_t)lsio_now_ns()};
    const char *env = getenv("LSIO_STRESS_SECONDS");
    if (env)
        run.seconds = atof(env);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--minutes") && i + 1 < argc)
            run.seconds = atof(argv[++i]) * 60;
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            run.seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            run.seed = strtoull(argv[++i], NULL, 0);
        else {
            fprintf(stderr, "usage: %s [--minutes N | --seconds N] [--seed S]\n", argv[0]);
            return 2;
        }
    }
    printf("seed %" PRIu64 ", %.0f s\n", run.seed, run.seconds);
    fflush(stdout);
    const char *dir = test_tmpdir("io_stress");
    uint64_t s = run.seed;
    for (int f = 0; f < NFILES; f++) {
        char name[16];
        snprintf(name, sizeof name, "s%03d", f);
        uint64_t k = tu_rand(&s) % 10;
        sizes[f] = k == 0 ? 0 : k < 6 ? tu_rand(&s) % 65536 : tu_rand(&s) % (3u << 20);
        paths[f] = tu_make_file(dir, name, sizes[f], tu_rand(&s));
    }
    int fds = tu_fds(), threads = tu_threads_baseline();
    uint64_t t0 = lsio_now_ns();
    while ((double)(lsio_now_ns() - t0) / 1e9 < run.seconds)
        round_once(&run, &s);
    CHECK_EQ(tu_fds(), fds);
    CHECK_EQ(tu_threads_settled(threads), threads);
    printf("%" PRIu64 " rounds, %" PRIu64 " ranges, %.1f MiB verified, %" PRIu64
           " expected errors (%" PRIu64 " cancelled by close)\n",
           run.rounds, run.ranges, (double)run.bytes / (1 << 20), run.errors, run.cancelled);
    for (int f = 0; f < NFILES; f++)
        free(paths[f]);
    tu_rm_rf(dir);
    return 0;
}
